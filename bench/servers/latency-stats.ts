/**
 * Processing latency of a benchmark contender that queues updates (receipt → handler finished),
 * kept as a histogram of 1 ms buckets so a 60 s run at thousands per second stays small.
 * GET answers the figures since the last reset; POST resets them (the sustained-capacity probe
 * does so after its warm-up).
 */
export function createLatencyStats() {
  let buckets = new Uint32Array(60_001);
  const s = {
    added: 0,
    done: 0,
    maxMs: 0,
    record(ms: number) {
      s.done++;
      const b = Math.min(60_000, Math.max(0, Math.round(ms)));
      buckets[b]!++;
      if (ms > s.maxMs) s.maxMs = ms;
    },
    percentile(p: number): number {
      const n = buckets.reduce((a, b) => a + b, 0);
      if (n === 0) return 0;
      let seen = 0;
      for (let i = 0; i < buckets.length; i++) {
        seen += buckets[i]!;
        if (seen >= p * n) return i;
      }
      return 60_000;
    },
    respond(req: Request): Response {
      if (req.method === "POST") {
        buckets = new Uint32Array(60_001);
        s.maxMs = 0;
      }
      return Response.json({ added: s.added, done: s.done, backlog: s.added - s.done, p50Ms: s.percentile(0.5), p99Ms: s.percentile(0.99), maxMs: s.maxMs });
    },
  };
  return s;
}
