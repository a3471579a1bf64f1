-- wrk as a browser for bench/load.sh (CLIENT=browser): it sends the cookies
-- it holds and keeps each cookie a response sets, where plain wrk replays
-- one fixed Cookie header. With it the stamp is re-issued only when its
-- value moves (at most once a second), as for real users.
--
--   wrk -s bench/browser-client.lua http://127.0.0.1:8000/hello -- "name=value; other=value"
--
-- At the end it prints "stamps stored: <n>" for each wrk thread.

local jar = {}
local cookie_header = ""
stored = 0 -- global: read by done() through thread:get

local function rebuild()
  local parts = {}
  for name, value in pairs(jar) do
    parts[#parts + 1] = name .. "=" .. value
  end
  table.sort(parts)
  cookie_header = table.concat(parts, "; ")
end

init = function(args)
  for name, value in string.gmatch(args[1] or "", "([^=; ]+)=([^;]*)") do
    jar[name] = value
  end
  rebuild()
end

request = function()
  return wrk.format(nil, nil, { Cookie = cookie_header })
end

-- wrk keeps one value per header name; the apps measured set one cookie per response.
response = function(status, headers, body)
  local set_cookie = headers["Set-Cookie"] or headers["set-cookie"]
  if set_cookie then
    local name, value = set_cookie:match("^([^=]+)=([^;]*)")
    if name and jar[name] ~= value then
      jar[name] = value
      stored = stored + 1
      rebuild()
    end
  end
end

local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end

done = function(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(string.format("stamps stored: %d\n", thread:get("stored")))
  end
end
