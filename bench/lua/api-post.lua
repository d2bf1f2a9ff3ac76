-- JSON API: `POST /api/items/<id>` with Content-Type: application/json and the 1024-byte JSON
-- document in body-1k.json, the id cycling over a few values so routers cannot cache one path.
-- The `api` app of every framework (bench/apps/) answers
-- {"id":<id>,"received":<number of keys in the body>,"ok":true}. Script arguments (both optional):
-- the body file (default: body-1k.json next to this script) and a comma-separated id list
-- (default below; bench/run.js passes its own, the ids its correctness check POSTs).
--
--   wrk -t1 -c50 -d5s -s bench/lua/api-post.lua http://127.0.0.1:3000/ -- bench/lua/body-1k.json 1,42,317

local ids = { 1, 42, 317, 4711, 65536, 1000000 }
local requests = {}
local n = 0

local function script_dir()
   local src = debug.getinfo(1, "S").source
   if src:sub(1, 1) == "@" then
      local dir = src:sub(2):match("^(.*)/[^/]*$")
      if dir then return dir .. "/" end
   end
   return "./"
end

local function read_file(path)
   local f, err = io.open(path, "rb")
   if not f then error("api-post.lua: cannot open body file: " .. tostring(err)) end
   local data = f:read("*a")
   f:close()
   return data
end

-- Runs in every wrk thread: the requests are formatted once, request() only picks the next one.
init = function(args)
   local path = (args and args[1]) or (script_dir() .. "body-1k.json")
   local body = read_file(path)
   if args and args[2] then
      ids = {}
      for id in args[2]:gmatch("[^,]+") do ids[#ids + 1] = id end
   end
   local headers = { ["Content-Type"] = "application/json" }
   for i, id in ipairs(ids) do
      requests[i] = wrk.format("POST", "/api/items/" .. id, headers, body)
   end
end

request = function()
   n = n % #requests + 1
   return requests[n]
end
