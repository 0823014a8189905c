-- wrk script for bench/soak.py: a mixed workload against the example API
-- (examples/api plus the bench-only POST /soak/upload of bench/serve_app.py).
--
--   wrk -t2 -c256 -d60s --timeout 10s -s bench/soak.lua http://127.0.0.1:PORT
--
-- The mix is a fixed cycle of 20 requests per wrk thread: reads (info, one item, a
-- filtered list, a static file), writes (create, replace, partial update, delete),
-- multipart uploads (a small one kept in memory, a 48 KiB one that soak.py makes the
-- server spool to disk) and two deliberate errors (an unknown item: 404, an invalid
-- price: 422). Every item a POST creates is deleted again (its id is read from the 201
-- body), so the store stays small however long the run; item 1 (seeded at start-up)
-- is only read, replaced and patched with its own values.
--
-- wrk does not tell which request a response answers, so responses are classified by
-- status and body: the two deliberate errors carry a marker in their body. done()
-- prints "SOAK ..." lines that soak.py parses.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

local BOUNDARY = "----patera-soak-3f9c2a71d04b"
local MISSING_ID = "987654321"

local function multipart(file_size)
   local parts = {
      "--" .. BOUNDARY .. "\r\n",
      'Content-Disposition: form-data; name="title"\r\n\r\n',
      "soak upload\r\n",
      "--" .. BOUNDARY .. "\r\n",
      'Content-Disposition: form-data; name="note"\r\n\r\n',
      "caf\195\169 \226\130\172 UTF-8 text\r\n",
      "--" .. BOUNDARY .. "\r\n",
      'Content-Disposition: form-data; name="file"; filename="data.bin"\r\n',
      "Content-Type: application/octet-stream\r\n\r\n",
      string.rep("0123456789abcdef", file_size / 16),
      "\r\n--" .. BOUNDARY .. "--\r\n",
   }
   return table.concat(parts)
end

local JSON = { ["Content-Type"] = "application/json" }

local function req(method, path, headers, body)
   local h = {}
   for k, v in pairs(headers or {}) do h[k] = v end
   return wrk.format(method, path, h, body)
end

function init(args)
   sent = {}          -- kind -> requests sent
   statuses = {}      -- status -> responses
   expected = { e404 = 0, e422 = 0 }
   unexpected = {}    -- status -> responses that are not 2xx and not deliberate
   samples = {}       -- a few bodies of unexpected responses
   created = {}       -- ids of created items waiting for their DELETE
   created_total = 0
   counter = 0

   local form = { ["Content-Type"] = "multipart/form-data; boundary=" .. BOUNDARY }
   fixed = {
      info = req("GET", "/api/v1/"),
      item = req("GET", "/api/v1/items/1"),
      list = req("GET", "/api/v1/items?tag=soak"),
      static = req("GET", "/static/readme.txt"),
      create = req("POST", "/api/v1/items", JSON, '{"name":"soak item","price":1.5,"tags":["soak","x"]}'),
      replace = req("PUT", "/api/v1/items/1", JSON, '{"name":"Example item","price":9.99,"tags":["example"]}'),
      patch = req("PATCH", "/api/v1/items/1", JSON, '{"price":9.99}'),
      upload_small = req("POST", "/soak/upload", form, multipart(2048)),
      upload_large = req("POST", "/soak/upload", form, multipart(49152)),
      missing = req("GET", "/api/v1/items/" .. MISSING_ID),
      invalid = req("POST", "/api/v1/items", JSON, '{"name":"soak invalid","price":-1}'),
   }
   cycle = {
      "info", "item", "create", "list", "upload_small", "delete", "static", "replace",
      "create", "item", "upload_small", "delete", "patch", "missing", "upload_large",
      "info", "invalid", "item", "list", "static",
   }
end

function request()
   counter = counter + 1
   local kind = cycle[(counter - 1) % #cycle + 1]
   if #created > 8 then
      kind = "delete"  -- keep the store bounded whatever the response order
   end
   if kind == "delete" then
      local id = table.remove(created)
      if id == nil then
         kind = "item"
      else
         sent.delete = (sent.delete or 0) + 1
         return req("DELETE", "/api/v1/items/" .. id)
      end
   end
   sent[kind] = (sent[kind] or 0) + 1
   return fixed[kind]
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status >= 200 and status < 300 then
      if status == 201 then
         local id = body and body:match('"id":%s*(%d+)')
         if id then
            table.insert(created, id)
            created_total = created_total + 1
         end
      end
      return
   end
   body = body or ""
   if status == 404 and body:find(MISSING_ID, 1, true) then
      expected.e404 = expected.e404 + 1
   elseif status == 422 and body:find("greater_than_equal", 1, true) then
      expected.e422 = expected.e422 + 1
   else
      unexpected[status] = (unexpected[status] or 0) + 1
      if #samples < 5 then
         table.insert(samples, status .. " " .. body:sub(1, 200):gsub("[\r\n]", " "))
      end
   end
end

local function add(into, from)
   for k, v in pairs(from or {}) do into[k] = (into[k] or 0) + v end
end

function done(summary, latency, requests)
   local totals = { sent = {}, statuses = {}, expected = {}, unexpected = {} }
   local samples_all, created_sum, pending = {}, 0, 0
   for _, t in ipairs(threads) do
      add(totals.sent, t:get("sent"))
      add(totals.statuses, t:get("statuses"))
      add(totals.expected, t:get("expected"))
      add(totals.unexpected, t:get("unexpected"))
      created_sum = created_sum + (t:get("created_total") or 0)
      pending = pending + #(t:get("created") or {})
      for _, s in ipairs(t:get("samples") or {}) do table.insert(samples_all, s) end
   end
   for k, v in pairs(totals.sent) do io.write(string.format("SOAK sent %s %d\n", k, v)) end
   for k, v in pairs(totals.statuses) do io.write(string.format("SOAK status %d %d\n", k, v)) end
   for k, v in pairs(totals.expected) do io.write(string.format("SOAK expected %s %d\n", k, v)) end
   for k, v in pairs(totals.unexpected) do io.write(string.format("SOAK unexpected %d %d\n", k, v)) end
   io.write(string.format("SOAK created %d\n", created_sum))
   io.write(string.format("SOAK pending_delete %d\n", pending))
   local e = summary.errors
   io.write(string.format("SOAK errors connect=%d read=%d write=%d timeout=%d status=%d\n",
      e.connect, e.read, e.write, e.timeout, e.status))
   io.write(string.format("SOAK requests %d\n", summary.requests))
   io.write(string.format("SOAK latency_p50_ms %.2f\n", latency:percentile(50) / 1000))
   io.write(string.format("SOAK latency_p99_ms %.2f\n", latency:percentile(99) / 1000))
   io.write(string.format("SOAK latency_max_ms %.2f\n", latency.max / 1000))
   for _, s in ipairs(samples_all) do io.write("SOAK sample " .. s .. "\n") end
end
