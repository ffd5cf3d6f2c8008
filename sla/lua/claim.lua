-- Find cases with a threshold due at ARGV[2] and claim each due threshold exactly once.
-- KEYS[1] due zset, KEYS[2] in-flight zset, KEYS[3] alert payload hash
-- ARGV[1] key prefix, ARGV[2] now (epoch s), ARGV[3] max cases
-- Returns {cases examined, payload JSONs joined by "\n"} (department, district and
-- category as interned codes; one string is far cheaper to receive than thousands).
-- Claiming = setting the slot's fired bit, recording the payload and leasing it in the
-- in-flight zset until acknowledged.
-- Mirrors sla.clocks.fire_due (used by the rebuild): keep the two in step.
local prefix, now = ARGV[1], tonumber(ARGV[2])
local names = {'warn50', 'warn80', 'overdue', 'escalate'}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, aid in ipairs(ids) do
  local ck = prefix .. 'c:' .. aid
  local t = redis.call('HGET', ck, 't')
  if not t then
    redis.call('ZREM', KEYS[1], aid)  -- case gone (expired): drop its entry
  else
    local s = parse_t(t)
    local fired = s.fired
    local late = false
    for i = 1, 8 do
      local at = s.times[i]
      local b = bit.lshift(1, i - 1)
      if at > 0 and at <= now and bit.band(fired, b) == 0 then
        fired = bit.bor(fired, b)
        local thr = (i - 1) % 4
        local kind, cid
        if i <= 4 then
          kind, cid = 'case', 'c' .. s.round
        elseif s.phase == 1 then
          kind, cid = 'sign_for', 's' .. s.hop
        else
          kind, cid = 'handling', 'h' .. s.hop
        end
        if s.ext > 0 then cid = cid .. 'x' .. s.ext end  -- an extended deadline is a new one
        local alert_id = aid .. '/' .. cid .. '/' .. names[thr + 1]
        local payload = cjson.encode({
          alert_id = alert_id, appeal_id = aid, clock = kind, clock_id = cid,
          threshold = names[thr + 1], threshold_at = at, due_at = s.times[i - thr + 2],
          raised_at = now, d = s.dept, di = s.di, ca = s.ca})
        redis.call('HSET', KEYS[3], alert_id, payload)
        redis.call('ZADD', KEYS[2], now, alert_id)
        out[#out + 1] = payload
        if thr >= 1 then late = true end
      end
    end
    redis.call('HSET', ck, 't', with_fired(t, fired))
    local nd = next_due(s.times, fired)
    if nd then
      redis.call('ZADD', KEYS[1], nd, aid)
    else
      redis.call('ZREM', KEYS[1], aid)
    end
    if late then
      redis.call('SADD', prefix .. 'L', aid)
      if s.di > 0 then redis.call('SADD', prefix .. 'L:di:' .. s.di, aid) end
      if s.ca > 0 then redis.call('SADD', prefix .. 'L:ca:' .. s.ca, aid) end
    end
  end
end
return {#ids, table.concat(out, '\n')}
