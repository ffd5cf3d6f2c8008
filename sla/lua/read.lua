-- Read many case hashes in one call, as one binary string (cheap to parse in Python).
-- ARGV[1] key prefix, ARGV[2] appeal ids joined by "\n".
-- Per id: u8 len(t), u8 len(b), t, b (both lengths 0 when the case is unknown).
local prefix = ARGV[1]
local parts = {}
for aid in string.gmatch(ARGV[2], '[^\n]+') do
  local h = redis.call('HMGET', prefix .. 'c:' .. aid, 't', 'b')
  if h[1] and h[2] then
    parts[#parts + 1] = struct.pack('>BB', #h[1], #h[2]) .. h[1] .. h[2]
  else
    parts[#parts + 1] = struct.pack('>BB', 0, 0)
  end
end
return table.concat(parts)
