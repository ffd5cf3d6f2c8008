-- Helpers shared by the SLA scripts; sla/redis_store.py prepends this file to each one.
-- A case hash has two fields. `b` is Python's alone. `t` (48 bytes) is shared:
--   round u16, hop u16, hop phase u8 (low nibble; high nibble: extensions approved, for
--   clock ids), fired bits u8 (bit i-1 = slot i claimed; owned by
--   the scanner), version u32 (compare-and-set), department, district and category
--   codes u16 each (interned names, 0 = none), then 8 threshold instants u32 (epoch
--   seconds, 0 = none): slots 1-4 case clock, 5-8 hop clock, each warn50, warn80,
--   overdue, escalate.
-- Keys are built from the prefix inside the scripts: fine on one Redis node (the
-- deployment here), not on Redis Cluster.
local T_FMT = '>HHBBIHHHIIIIIIII'
local FIRED_POS = 6  -- 1-based byte offset of the fired bits in `t`

local function parse_t(t)
  local r = {struct.unpack(T_FMT, t)}
  return {round = r[1], hop = r[2], phase = r[3] % 16, ext = math.floor(r[3] / 16),
    fired = r[4], version = r[5],
    dept = r[6], di = r[7], ca = r[8],
    times = {r[9], r[10], r[11], r[12], r[13], r[14], r[15], r[16]}}
end

local function with_fired(t, fired)
  return string.sub(t, 1, FIRED_POS - 1) .. string.char(fired) .. string.sub(t, FIRED_POS + 1)
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
