-- Give each name (policy, district, category) a small integer code, once and for all.
-- KEYS[1] name → code hash, KEYS[2] code → name hash, KEYS[3] code counter
-- ARGV names (namespaced, e.g. 'ca:城乡建设/…'). Returns their codes.
local out = {}
for i, name in ipairs(ARGV) do
  local c = redis.call('HGET', KEYS[1], name)
  if not c then
    c = redis.call('INCR', KEYS[3])
    redis.call('HSET', KEYS[1], name, c)
    redis.call('HSET', KEYS[2], c, name)
  end
  out[i] = tonumber(c)
end
return out
