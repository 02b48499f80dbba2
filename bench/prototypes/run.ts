/**
 * Prototype shoot-out (issue 17): the durable floor against the storage designs of
 * ingest-proto.ts, interleaved (the order rotates each round), wrk at 50 and 100 connections,
 * medians; each design's ratio to the floor of the same run, and its CPU time per request (main
 * thread and all threads, from /proc: far steadier than req/s when the machine is shared).
 * Run: bun bench/prototypes/run.ts [rounds=3] [seconds=5] [modes=sqlite,sqlite-narrow,journal,journal-narrow,journal-thread]
 * A mode may carry a log variant after a slash: journal-thread/fast, sqlite/pino (PROTO_LOG), and
 * "+w" for processing (PROTO_WORKER=1): sqlite+w/fast, journal-thread+w/fast. The "processed"
 * column is the share of the run's stored updates the worker finished inside the run.
 */
import { resolve } from "node:path";
import { PEER_SECRET, startScript } from "../lib/contenders";
import { fmt, median, table } from "../lib/stats";
import { runWrk, type WrkResult } from "../lib/wrk";
import { cpuDelta, threadCpu } from "../lib/proc-cpu";

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 5);
const modes = (process.argv[4] ?? "sqlite,sqlite-narrow,journal,journal-narrow,journal-thread").split(",");
const kinds = ["floor", ...modes];
const conns = [50, 100];
type Res = WrkResult & { mainUs: number; allUs: number; processedShare: number };
const processedSoFar = async (url: string) => {
  try {
    return ((await (await fetch(url.replace(/\/telegram\/webhook$/, "/proto/stats"))).json()) as { processed: number }).processed;
  } catch {
    return 0;
  }
};
const results = new Map<string, Res[]>();
let base = 1_000_000;
for (let r = 0; r < rounds; r++) {
  for (const k of kinds.map((_, i) => kinds[(i + r) % kinds.length]!)) {
    const srv =
      k === "floor"
        ? await startScript("durable-floor.ts", k, PEER_SECRET)
        : await startScript(resolve(import.meta.dir, "ingest-proto.ts"), k, PEER_SECRET, {
            PROTO_MODE: k.split("/")[0]!.replace(/\+w$/, ""),
            PROTO_WORKER: k.split("/")[0]!.endsWith("+w") ? "1" : "",
            PROTO_LOG: k.split("/")[1] ?? "none",
          });
    try {
      await runWrk({ url: srv.url, secret: PEER_SECRET, conns: 50, seconds: 1, updateBase: (base += 10_000_000) });
      for (const c of conns) {
        const before = threadCpu(srv.pid);
        const p0 = await processedSoFar(srv.url);
        const w = await runWrk({ url: srv.url, secret: PEER_SECRET, conns: c, seconds, updateBase: (base += 10_000_000) });
        const d = cpuDelta(before, threadCpu(srv.pid), srv.pid);
        const p1 = await processedSoFar(srv.url);
        const res: Res = { ...w, mainUs: (d.main ?? 0) / w.requests, allUs: Object.values(d).reduce((a, b) => a + b, 0) / w.requests, processedShare: (p1 - p0) / w.requests };
        results.set(`${k}/${c}`, [...(results.get(`${k}/${c}`) ?? []), res]);
        console.error(`round ${r + 1} ${k.padEnd(15)} c=${c}: ${fmt(res.reqPerSec)} req/s p50 ${res.p50Ms.toFixed(2)} p99 ${res.p99Ms.toFixed(2)} errors ${res.errors}; CPU µs/req main ${res.mainUs.toFixed(1)} all ${res.allUs.toFixed(1)}; processed ${(100 * res.processedShare).toFixed(0)} %`);
      }
    } finally {
      await srv.stop();
    }
  }
}
const med = (k: string, c: number, f: (w: Res) => number) => median((results.get(`${k}/${c}`) ?? []).map(f));
console.log(
  table(
    ["design", ...conns.flatMap((c) => [`req/s c=${c}`, `p99 ms c=${c}`, `÷ floor c=${c}`, `CPU µs/req main / all c=${c}`, `processed c=${c}`])],
    kinds.map((k) => [
      k,
      ...conns.flatMap((c) => [
        fmt(med(k, c, (w) => w.reqPerSec)),
        med(k, c, (w) => w.p99Ms).toFixed(1),
        (med(k, c, (w) => w.reqPerSec) / med("floor", c, (w) => w.reqPerSec)).toFixed(2),
        `${med(k, c, (w) => w.mainUs).toFixed(1)} / ${med(k, c, (w) => w.allUs).toFixed(1)}`,
        `${(100 * med(k, c, (w) => w.processedShare)).toFixed(0)} %`,
      ]),
    ]),
  ),
);
