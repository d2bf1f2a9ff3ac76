-- Pipelined GET: every write carries N back-to-back `GET /` requests
-- (default 16, override with `-- <N>` after the URL). wrk counts responses,
-- not writes, so Requests/sec is the real request rate.
--
--   wrk -t1 -c50 -d5s -s bench/lua/pipeline.lua http://127.0.0.1:3000/ -- 16

local depth = 16
local batch

init = function(args)
   local n = tonumber(args and args[1])
   if n and n >= 1 then depth = math.floor(n) end
   local r = {}
   for i = 1, depth do
      r[i] = wrk.format(nil, "/")
   end
   batch = table.concat(r)
end

request = function()
   return batch
end
