-- Write new case states computed by Python, each only if nobody wrote it meanwhile
-- (compare-and-set on the version `v`). Many cases per call: one round trip per batch.
-- KEYS[1] due zset
-- ARGV[1] key prefix, ARGV[2] ttl of a closed case, then 14 values per case:
--   appeal id, department bucket, expected version ('0' = new case), new version,
--   fired bits to clear, old department, new department, '1' if closed,
--   k, d, di, ca, t, b (fields; k/di/ca are interned codes, '0' = none)
-- Returns one integer per case: 1 written, 0 version conflict (caller recomputes).
local prefix, ttl = ARGV[1], tonumber(ARGV[2])
local out = {}
for o = 2, #ARGV - 1, 14 do
  local aid, bucket = ARGV[o + 1], ARGV[o + 2]
  local ck = prefix .. 'c:' .. aid
  local cur = redis.call('HMGET', ck, 'v', 'f')
  if (cur[1] or '0') ~= ARGV[o + 3] then
    out[#out + 1] = 0
  else
    -- Fired bits belong to the scanner: keep them, except those of replaced clocks.
    local fired = bit.band(tonumber(cur[2] or '0'), bit.bnot(tonumber(ARGV[o + 5])))
    local di, ca, t = ARGV[o + 11], ARGV[o + 12], ARGV[o + 13]
    redis.call('HSET', ck, 'k', ARGV[o + 9], 'd', ARGV[o + 10], 'di', di, 'ca', ca,
      't', t, 'b', ARGV[o + 14], 'v', ARGV[o + 4], 'f', fired)
    local old, new = ARGV[o + 6], ARGV[o + 7]
    if ARGV[o + 8] == '1' then
      redis.call('ZREM', KEYS[1], aid)
      if old ~= '' then redis.call('HDEL', prefix .. 'o:' .. old .. ':' .. bucket, aid) end
      if new ~= '' then redis.call('HDEL', prefix .. 'o:' .. new .. ':' .. bucket, aid) end
      redis.call('SREM', prefix .. 'L', aid)
      if di ~= '0' then redis.call('SREM', prefix .. 'L:di:' .. di, aid) end
      if ca ~= '0' then redis.call('SREM', prefix .. 'L:ca:' .. ca, aid) end
      if ttl > 0 then redis.call('EXPIRE', ck, ttl) end
    else
      redis.call('PERSIST', ck)
      local _, _, _, times = parse_t(t)
      local nd = next_due(times, fired)
      if nd then
        redis.call('ZADD', KEYS[1], nd, aid)
      else
        redis.call('ZREM', KEYS[1], aid)
      end
      if old ~= '' and old ~= new then
        redis.call('HDEL', prefix .. 'o:' .. old .. ':' .. bucket, aid)
      end
      if new ~= '' then redis.call('HSET', prefix .. 'o:' .. new .. ':' .. bucket, aid, 1) end
    end
    out[#out + 1] = 1
  end
end
return out
