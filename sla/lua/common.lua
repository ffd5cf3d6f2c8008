-- Helpers shared by the SLA scripts; sla/redis_store.py prepends this file to each one.
-- Field `t` of a case hash: round (u16), hop (u16), hop phase (u8), then 8 threshold
-- instants (u32 epoch seconds, 0 = none): slots 1-4 case clock, 5-8 hop clock, each
-- warn50, warn80, overdue, escalate. Field `b` is Python's alone.
-- Field `f`: bit i-1 set = slot i already claimed.
-- Keys are built from the prefix inside the scripts: fine on one Redis node (the
-- deployment here), not on Redis Cluster.
local function parse_t(t)
  local r = {struct.unpack('>HHBIIIIIIII', t)}
  return r[1], r[2], r[3], {r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]}
end

local function next_due(times, fired)
  local best = nil
  for i = 1, 8 do
    local t = times[i]
    if t > 0 and bit.band(fired, bit.lshift(1, i - 1)) == 0 and (best == nil or t < best) then
      best = t
    end
  end
  return best
end
