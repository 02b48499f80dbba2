/**
 * Where an ack's latency goes, and what each update costs the disk (issue 17). A contender under
 * wrk; then, from /proc/<pid>/io, the bytes it handed to the disk per acknowledged request (WAL
 * frames, checkpoint copies, log lines; the floor: its append) and, for tgwh, its own commit
 * figures from /metrics (tgwh_db_commit_seconds: BEGIN → durable per group commit; ops per
 * commit), beside the ack latency wrk saw. If commits take most of the ack while the event loop
 * has time to spare, the fsync of what a commit wrote is the wall.
 * Run: bun bench/cost/commit-latency.ts [seconds=6] [conns=50] [kinds=tgwh-full,floor]
 * (BENCH_TGWH_ENV, BENCH_TGWH_BINARY, BENCH_TGWH_VARIANTS as in bench/ingest.ts)
 */
import { readFileSync } from "node:fs";
import { startContender, stopFakeApi, type ContenderKind } from "../lib/contenders";
import { runWrk } from "../lib/wrk";
import { sample, scrapeMetrics, type Scrape } from "../../test/support/prometheus";

const seconds = Number(process.argv[2] ?? 6);
const conns = Number(process.argv[3] ?? 50);
const kinds = (process.argv[4] ?? "tgwh-full,floor").split(",") as ContenderKind[];

/** Bytes this process caused to be sent to the storage layer (Linux /proc/<pid>/io write_bytes). */
function writeBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/io`, "latin1").split("\n").find((l) => l.startsWith("write_bytes:"));
  return Number(line?.split(/\s+/)[1] ?? NaN);
}

/** Upper bound of the histogram bucket that holds quantile q (cumulative `le` buckets, over the process's life). */
function quantile(scrape: Scrape, name: string, q: number): number {
  const buckets = [...scrape.values]
    .filter(([key]) => key.startsWith(`${name}_bucket{`))
    .map(([key, n]) => ({ le: Number(/le="([^"]+)"/.exec(key)![1]!.replace("+Inf", "Infinity")), n }))
    .sort((x, y) => x.le - y.le);
  const total = buckets.at(-1)?.n ?? 0;
  return buckets.find((b) => b.n >= q * total)?.le ?? NaN;
}

let updateBase = 5_000_000;
for (const kind of kinds) {
  const srv = await startContender(kind);
  try {
    const base = srv.url.replace(/\/telegram\/webhook$/, "");
    const before = srv.tgwh ? await scrapeMetrics(base) : null;
    const bytesBefore = writeBytes(srv.pid);
    const res = await runWrk({ url: srv.url, secret: srv.secret, conns, seconds, updateBase: (updateBase += 10_000_000) });
    const bytes = writeBytes(srv.pid) - bytesBefore;
    const acked = res.reqPerSec * seconds;
    console.log(`${kind} c=${conns}: ${Math.round(res.reqPerSec)} req/s, ack p50 ${res.p50Ms.toFixed(2)} ms p99 ${res.p99Ms.toFixed(2)} ms; written ${(bytes / 1e6).toFixed(1)} MB, ${Math.round(bytes / acked)} bytes per ack`);
    if (!before) continue;
    const after = await scrapeMetrics(base);
    const d = (n: string) => sample(after, n) - sample(before, n);
    const commits = d("tgwh_db_commits_total");
    const ops = d("tgwh_db_commit_ops_total");
    const sum = d("tgwh_db_commit_seconds_sum");
    console.log(`  commits ${commits}, ops per commit ${(ops / commits).toFixed(1)}, mean BEGIN→durable ${((sum / commits) * 1000).toFixed(2)} ms (p50 ≤ ${quantile(after, "tgwh_db_commit_seconds", 0.5) * 1000} ms, p99 ≤ ${quantile(after, "tgwh_db_commit_seconds", 0.99) * 1000} ms over the process's life)`);
  } finally {
    await srv.stop();
  }
}
stopFakeApi();
