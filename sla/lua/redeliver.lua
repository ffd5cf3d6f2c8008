-- Re-lease alerts claimed more than ARGV[2] seconds ago and never acknowledged (the
-- worker died between claim and publish, or publishing failed).
-- KEYS[1] in-flight zset, KEYS[2] alert payload hash
-- ARGV[1] now, ARGV[2] lease seconds, ARGV[3] max alerts.
-- Returns the payload JSONs joined by "\n".
local now = tonumber(ARGV[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]),
  'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local p = redis.call('HGET', KEYS[2], id)
  if p then
    redis.call('ZADD', KEYS[1], now, id)
    out[#out + 1] = p
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return table.concat(out, '\n')
