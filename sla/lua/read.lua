-- Read many case hashes in one call.
-- ARGV[1] key prefix, ARGV[2..] appeal ids. Returns 8 values per id:
-- k d di ca t b v f (nil where absent).
local prefix = ARGV[1]
local out = {}
for i = 2, #ARGV do
  local h = redis.call('HMGET', prefix .. 'c:' .. ARGV[i], 'k', 'd', 'di', 'ca', 't', 'b', 'v', 'f')
  for j = 1, 8 do
    out[#out + 1] = h[j]
  end
end
return out
