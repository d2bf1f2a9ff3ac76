-- 1 KiB JSON POST: `POST /` with Content-Type: application/json and the
-- exact 1024-byte compact JSON document in body-1k.json (echoed back by the
-- `json` handler of bench/server.js). The body file path may be given as the
-- first script argument; by default it is looked up next to this script.
--
--   wrk -t1 -c50 -d5s -s bench/lua/post-json.lua http://127.0.0.1:3000/ -- bench/lua/body-1k.json

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
   if not f then error("post-json.lua: cannot open body file: " .. tostring(err)) end
   local data = f:read("*a")
   f:close()
   return data
end

-- Runs in every wrk thread before its (static) request is built.
init = function(args)
   local path = (args and args[1]) or (script_dir() .. "body-1k.json")
   wrk.method = "POST"
   wrk.body = read_file(path)
   wrk.headers["Content-Type"] = "application/json"
end
