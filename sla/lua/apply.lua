-- Write new case states computed by Python, each only if nobody wrote it meanwhile
-- (compare-and-set on the version in `t`). Many cases per call: one round trip per batch.
-- KEYS[1] due zset
-- ARGV[1] key prefix, ARGV[2] ttl of a closed case, ARGV[3] the cases, packed:
--   appeal id (u8 length + bytes), department bucket (u16), expected version (u32,
--   0 = new case), fired bits to clear (u8), old department code (u16), closed (u8),
--   t, b (u8 length + bytes each)
-- ARGV[4], ARGV[5], ...: each interned name the cases use (old states' too) and the code
--   Python has for it. Python caches codes; if Redis lost its data (restarted without
--   persistence, or the last second of its AOF) they may mean nothing, or other names.
-- Returns one integer per case: 1 written, 0 version conflict (caller recomputes); or
-- {-1}, writing nothing, when a name's code is not the one given (caller re-interns).
local prefix, ttl, blob = ARGV[1], tonumber(ARGV[2]), ARGV[3]
for i = 4, #ARGV, 2 do
  if redis.call('HGET', prefix .. 'n', ARGV[i]) ~= ARGV[i + 1] then return {-1} end
end
local out = {}
local pos = 1
while pos <= #blob do
  local aid, bucket, expected, reset, old, closed, t, b
  aid, bucket, expected, reset, old, closed, t, b, pos =
    struct.unpack('>Bc0HIBHBBc0Bc0', blob, pos)
  local ck = prefix .. 'c:' .. aid
  local cur_t = redis.call('HGET', ck, 't')
  local cur_fired, cur_version = 0, 0
  if cur_t then
    -- only the head of `t` is needed here: fired bits and version
    local _r, _h, _p
    _r, _h, _p, cur_fired, cur_version = struct.unpack('>HHBBI', cur_t)
  end
  if cur_version ~= expected then
    out[#out + 1] = 0
  else
    -- Fired bits belong to the scanner: keep them, except those of replaced clocks.
    local fired = bit.band(cur_fired, bit.bnot(reset))
    t = with_fired(t, fired)
    redis.call('HSET', ck, 't', t, 'b', b)
    local new = parse_t(t)
    local function index(dept) return prefix .. 'o:' .. dept .. ':' .. bucket end
    if closed == 1 then
      redis.call('ZREM', KEYS[1], aid)
      if old > 0 then redis.call('HDEL', index(old), aid) end
      if new.dept > 0 then redis.call('HDEL', index(new.dept), aid) end
      redis.call('SREM', prefix .. 'L', aid)
      if new.di > 0 then redis.call('SREM', prefix .. 'L:di:' .. new.di, aid) end
      if new.ca > 0 then redis.call('SREM', prefix .. 'L:ca:' .. new.ca, aid) end
      if ttl > 0 then redis.call('EXPIRE', ck, ttl) end
    else
      redis.call('PERSIST', ck)
      local nd = next_due(new.times, fired)
      if nd then
        redis.call('ZADD', KEYS[1], nd, aid)
      else
        redis.call('ZREM', KEYS[1], aid)
      end
      if old > 0 and old ~= new.dept then redis.call('HDEL', index(old), aid) end
      if new.dept > 0 then redis.call('HSET', index(new.dept), aid, 1) end
    end
    out[#out + 1] = 1
  end
end
return out
