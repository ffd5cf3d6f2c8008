-- Read many case hashes in one call, as one binary string (cheap to parse in Python).
-- ARGV[1] key prefix, ARGV[2] appeal ids joined by "\n" (none empty, none with "\n").
-- Per id: u8 len(t), u8 len(b), t, b (both lengths 0 when the case is unknown).
-- Then, per name code met in those cases (policy, department, district, category):
-- u16 code, u32 len(name), name, the name as Redis holds it now (empty if unknown).
-- Python decodes the cases with these rather than with its cache, which is stale once
-- Redis lost its data (restarted without persistence) and codes were handed out anew.
local prefix = ARGV[1]
local parts = {}
local seen, codes = {}, {}
local function want(code)
  if code > 0 and not seen[code] then
    seen[code] = true
    codes[#codes + 1] = code
  end
end
for aid in string.gmatch(ARGV[2], '[^\n]+') do
  local h = redis.call('HMGET', prefix .. 'c:' .. aid, 't', 'b')
  if h[1] and h[2] then
    parts[#parts + 1] = struct.pack('>BB', #h[1], #h[2]) .. h[1] .. h[2]
    local dept, di, ca = struct.unpack('>HHH', h[1], 11)  -- codes: bytes 11-16 of `t`
    want(dept)
    want(di)
    want(ca)
    want((struct.unpack('>H', h[2], 3)))  -- policy code: bytes 3-4 of `b`
  else
    parts[#parts + 1] = struct.pack('>BB', 0, 0)
  end
end
for _, code in ipairs(codes) do
  local name = redis.call('HGET', prefix .. 'n:r', code) or ''
  parts[#parts + 1] = struct.pack('>HI', code, #name) .. name
end
return table.concat(parts)
