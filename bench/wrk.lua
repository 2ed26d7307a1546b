-- wrk script for bench/run: one machine-readable summary line, optional pacing, optional request cap.
--
-- Environment (read once per wrk thread):
--   WRK_PACE_MS     each connection waits a random 0.5..1.5 x this many ms before each request, so the offered
--                   rate is about connections * 1000 / WRK_PACE_MS requests/s (a fixed, moderate rate; wrk
--                   measures latency from the moment a request is written, so the wait is not counted).
--   WRK_STOP_AFTER  each thread stops after this many responses (for "N requests" runs; pass N / threads).
--
-- The summary line (stdout, after wrk's own report):
--   WRK requests=N duration_us=D bytes=B rps=R p50_us=.. p90_us=.. p99_us=.. max_us=.. non2xx=.. connect_errors=..
--       read_errors=.. write_errors=.. timeouts=..

local pace_ms = tonumber(os.getenv("WRK_PACE_MS") or "")
local stop_after = tonumber(os.getenv("WRK_STOP_AFTER") or "")

if pace_ms then
   math.randomseed(os.time() + math.floor(os.clock() * 1000000))
   function delay()
      return pace_ms * (0.5 + math.random())
   end
end

if stop_after then
   local seen = 0
   function response(status, headers, body)
      seen = seen + 1
      if seen >= stop_after then
         wrk.thread:stop()
      end
   end
end

function done(summary, latency, requests)
   local seconds = summary.duration / 1000000
   local e = summary.errors
   io.write(string.format(
      "WRK requests=%d duration_us=%d bytes=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
      "non2xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
      summary.requests, summary.duration, summary.bytes, summary.requests / seconds,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.status, e.connect, e.read, e.write, e.timeout))
end
