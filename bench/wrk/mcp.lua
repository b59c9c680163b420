-- A wrk script: MCP `tools/call` requests in a closed loop, the same requests the bench's own
-- driver sends (bench/src/workloads.rs), so that an outside load generator can check its
-- figures. `run` (beside this file) sets the environment:
--   TOOL     the tool to call (default whoami; the rmcp floor's tool is `constant`)
--   ARGS     its arguments as JSON (default {})
--   ERA      stateless (2026-07-28 headers and _meta, the default) or session (2025-11-25)
--   TOKEN    a bearer token (none for the floors)
--   SESSION  the Mcp-Session-Id of an initialized session (session era)
--   ID_BASE  added to every JSON-RPC id, so that two runs in one session never reuse one
-- Every request gets its own JSON-RPC id: within one session rmcp matches an answer to its
-- request by id, so concurrent requests sharing an id would wait on one another.
-- An answer that is not HTTP 200 carrying a JSON-RPC result, or whose result is a tool error
-- (`isError: true`), is counted and reported, as the bench's driver counts it.

local tool = os.getenv("TOOL") or "whoami"
local args = os.getenv("ARGS") or "{}"
local era = os.getenv("ERA") or "stateless"
local token = os.getenv("TOKEN")
local id_base = tonumber(os.getenv("ID_BASE") or "0")
if era ~= "stateless" and era ~= "session" then
  error("ERA must be stateless or session, not " .. era)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local params
if era == "session" then
  wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
  wrk.headers["Mcp-Session-Id"] = os.getenv("SESSION")
  params = '{"name":"' .. tool .. '","arguments":' .. args .. '}'
else
  wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
  wrk.headers["Mcp-Method"] = "tools/call"
  wrk.headers["Mcp-Name"] = tool
  params = '{"name":"' .. tool .. '","arguments":' .. args .. ',"_meta":{'
    .. '"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
    .. '"io.modelcontextprotocol/clientInfo":{"name":"wrk","version":"1"},'
    .. '"io.modelcontextprotocol/clientCapabilities":{}}}'
end
local head = '{"jsonrpc":"2.0","id":'
local tail = ',"method":"tools/call","params":' .. params .. '}'

-- Each wrk thread numbers its requests from its own base, so no two share an id. The
-- threads are kept: `done` runs in wrk's main Lua state and reads their counts.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("next_id", id_base + #threads * 1000000000)
end

function request()
  next_id = next_id + 1
  return wrk.format(nil, nil, nil, head .. next_id .. tail)
end

bad = 0
function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"result"', 1, true)
      or string.find(body, '"isError":true', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("bad")
  end
  io.stderr:write(string.format("answers that were not a tool result: %d\n", total))
end
