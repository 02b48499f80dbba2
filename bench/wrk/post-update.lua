-- wrk script: POSTs a real Telegram message update, the way Telegram does (secret header, JSON),
-- with a unique, increasing update_id per request (no two requests are duplicates, so every one
-- is a real insert). Text without a command: the bot ignores it (the trivial handler).
-- Env: BENCH_SECRET, BENCH_UPDATE_BASE (first update_id), BENCH_CHATS (distinct chats, default 1000).
-- At the end it prints one JSON line (prefixed "WRKJSON ") with counts and latency percentiles.

local secret = os.getenv("BENCH_SECRET") or "bench_secret_0123456789"
local base = tonumber(os.getenv("BENCH_UPDATE_BASE") or "1000000")
local chats = tonumber(os.getenv("BENCH_CHATS") or "1000")
local threads = {}
local counter = 0
local tid = 0
local nthreads = 1

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  nthreads = #threads > 0 and #threads or 1
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Telegram-Bot-Api-Secret-Token"] = secret
end

local fmt = '{"update_id":%d,"message":{"message_id":%d,"from":{"id":%d,"is_bot":false,' ..
  '"first_name":"Bench","last_name":"User","username":"bench_user_%d","language_code":"en"},' ..
  '"chat":{"id":%d,"first_name":"Bench","last_name":"User","username":"bench_user_%d","type":"private"},' ..
  '"date":1764000000,"text":"hello from the benchmark, message number %d"}}'

function request()
  local id = base + counter * nthreads + (tid or 0)
  counter = counter + 1
  local chat = 100000 + (id % chats)
  local body = string.format(fmt, id, id, chat, chat, chat, chat, id)
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
