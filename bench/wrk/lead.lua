-- One wrk script for every scenario of the Lead Service benchmark (bench/run.mjs runs it).
--   wrk -s bench/wrk/lead.lua <url> -- <scenario> <token> <ids file> <salt>
-- scenario: create | list | get | status | search | page1 | page10k | mix. For search the ids
-- file holds URL-encoded search terms; for page1 and page10k it holds list cursors. Every request is built here, so each create
-- has its own body and client address, and no status change repeats a lead's current status.

local scenario, token, ids_file, salt
local ids = {}
local counter = 0
local changes = 0
local visits = {}

local statuses = { "new", "contacted", "qualified", "proposal", "closed_won", "closed_lost" }
local sources = { "website", "website", "website", "referral", "social", "other" }
local auth_headers, json_headers, create_headers

function init(args)
  scenario, token, ids_file, salt = args[1], args[2], args[3], tonumber(args[4] or "0")
  math.randomseed(salt)
  if ids_file and ids_file ~= "-" then
    for line in io.lines(ids_file) do ids[#ids + 1] = line end
  end
  auth_headers = { ["Authorization"] = "Bearer " .. token }
  json_headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  create_headers = { ["Content-Type"] = "application/json" }
end

local function create()
  counter = counter + 1
  local n = salt * 1000000 + counter
  -- A distinct client address per request (the service trusts X-Forwarded-For from loopback).
  create_headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  local body = string.format(
    '{"name":"Bench Lead %d","email":"bench%d@example.com","phone":"+91987654%04d","company":"Bench Co %d","message":"Interested in your services, request %d","source":"%s"}',
    n, n, n % 10000, n % 500, n, sources[(n % #sources) + 1])
  return wrk.format("POST", "/api/v1/leads", create_headers, body)
end

local function list()
  local status = statuses[math.random(#statuses)]
  return wrk.format("GET", string.format("/api/v1/leads?status=%s&page=%d&limit=20", status, math.random(5)), auth_headers)
end

local function get()
  return wrk.format("GET", "/api/v1/leads/" .. ids[math.random(#ids)], auth_headers)
end

-- The runner resets these leads to `new` before each run; each lead then alternates between
-- two other statuses, and a lead comes round again only after every other one (far more leads
-- than connections), so no change finds the status it sets already in place: no 409s.
local function status()
  changes = changes + 1
  local i = (changes - 1) % #ids + 1
  local v = (visits[i] or 0) + 1
  visits[i] = v
  local target = (v % 2 == 1) and "contacted" or "qualified"
  return wrk.format("PATCH", "/api/v1/leads/" .. ids[i] .. "/status", json_headers, '{"status":"' .. target .. '"}')
end

local function search()
  return wrk.format("GET", "/api/v1/leads?limit=20&q=" .. ids[math.random(#ids)], auth_headers)
end

-- A keyset page at the position a cursor names (the runner writes cursors for page 1 or 10,000).
local function cursor_page()
  return wrk.format("GET", "/api/v1/leads?limit=20&cursor=" .. ids[math.random(#ids)], auth_headers)
end

-- The soak's mix: mostly reads, as a sales team's day is.
local function mix()
  local r = math.random(100)
  if r <= 10 then return create() end
  if r <= 60 then return list() end
  if r <= 90 then return get() end
  return status()
end

-- The reports over the last 90 days or two years, each call with its own grouping or filter.
local groupings = { "source", "utm_source", "utm_medium", "utm_campaign" }
local function since(days)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - days * 86400)
end
local function pipeline(days)
  return function()
    local filter = (math.random(2) == 1) and "" or ("&source=" .. sources[math.random(#sources)])
    return wrk.format("GET", "/api/v1/reports/pipeline?from=" .. since(days) .. filter, auth_headers)
  end
end
local function sources_report(days)
  return function()
    return wrk.format("GET", "/api/v1/reports/sources?group_by=" .. groupings[math.random(#groupings)] .. "&from=" .. since(days), auth_headers)
  end
end

local scenarios = {
  create = create, list = list, get = get, status = status, mix = mix,
  ["report-pipeline-90d"] = pipeline(90), ["report-pipeline-2y"] = pipeline(730),
  ["report-sources-90d"] = sources_report(90), ["report-sources-2y"] = sources_report(730),
  search = search, page1 = cursor_page, page10k = cursor_page,
}

function request()
  return scenarios[scenario]()
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
