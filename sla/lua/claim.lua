-- Find cases with a threshold due at ARGV[2] and claim each due threshold exactly once.
-- KEYS[1] due zset, KEYS[2] in-flight zset, KEYS[3] alert payload hash
-- ARGV[1] key prefix, ARGV[2] now (epoch s), ARGV[3] max cases
-- Returns {cases examined, payload JSON...} (district/category as interned codes). Claiming = setting the slot's fired bit,
-- recording the payload and leasing it in the in-flight zset until acknowledged.
-- Mirrors sla.clocks.fire_due (used by the rebuild): keep the two in step.
local prefix, now = ARGV[1], tonumber(ARGV[2])
local names = {'warn50', 'warn80', 'overdue', 'escalate'}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {#ids}
for _, aid in ipairs(ids) do
  local ck = prefix .. 'c:' .. aid
  local h = redis.call('HMGET', ck, 't', 'f', 'd', 'di', 'ca')
  if not h[1] then
    redis.call('ZREM', KEYS[1], aid)  -- case gone (expired): drop its entry
  else
    local round, hop, phase, times = parse_t(h[1])
    local fired = tonumber(h[2] or '0')
    local late = false
    for i = 1, 8 do
      local t = times[i]
      local b = bit.lshift(1, i - 1)
      if t > 0 and t <= now and bit.band(fired, b) == 0 then
        fired = bit.bor(fired, b)
        local thr = (i - 1) % 4
        local kind, cid
        if i <= 4 then
          kind, cid = 'case', 'c' .. round
        elseif phase == 1 then
          kind, cid = 'sign_for', 's' .. hop
        else
          kind, cid = 'handling', 'h' .. hop
        end
        local alert_id = aid .. '/' .. cid .. '/' .. names[thr + 1]
        local payload = cjson.encode({
          alert_id = alert_id, appeal_id = aid, clock = kind, clock_id = cid,
          threshold = names[thr + 1], threshold_at = t, due_at = times[i - thr + 2],
          raised_at = now, department = h[3] or '', di = tonumber(h[4] or '0'),
          ca = tonumber(h[5] or '0')})
        redis.call('HSET', KEYS[3], alert_id, payload)
        redis.call('ZADD', KEYS[2], now, alert_id)
        out[#out + 1] = payload
        if thr >= 1 then late = true end
      end
    end
    redis.call('HSET', ck, 'f', fired)
    local nd = next_due(times, fired)
    if nd then
      redis.call('ZADD', KEYS[1], nd, aid)
    else
      redis.call('ZREM', KEYS[1], aid)
    end
    if late then
      redis.call('SADD', prefix .. 'L', aid)
      if h[4] and h[4] ~= '0' then redis.call('SADD', prefix .. 'L:di:' .. h[4], aid) end
      if h[5] and h[5] ~= '0' then redis.call('SADD', prefix .. 'L:ca:' .. h[5], aid) end
    end
  end
end
return out
