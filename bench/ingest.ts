/**
 * Ingest: requests/s and ack latency of the six contenders under wrk, at 50 and 100
 * connections, several rounds, contenders interleaved (the order rotates each round) so that
 * noise from the rest of the machine lands on all of them alike. Figures are medians over rounds.
 * Run alone: bun bench/ingest.ts [rounds] [seconds]
 */
import { CONTENDERS, startContender, stopFakeApi, type ContenderKind } from "./lib/contenders";
import { fmt, median, table } from "./lib/stats";
import { runWrk, type WrkResult } from "./lib/wrk";

export interface IngestOptions {
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  conns: number[];
  kinds?: ContenderKind[];
  log?: (line: string) => void;
}

export interface IngestRow {
  kind: ContenderKind;
  label: string;
  conns: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  rounds: WrkResult[];
}

let updateBase = 1_000_000;

export async function runIngest(o: IngestOptions): Promise<IngestRow[]> {
  const log = o.log ?? ((l: string) => console.error(l));
  const kinds = CONTENDERS.filter((c) => !o.kinds || o.kinds.includes(c.kind));
  const results = new Map<string, WrkResult[]>();
  for (let r = 0; r < o.rounds; r++) {
    const order = kinds.map((_, i) => kinds[(i + r) % kinds.length]!);
    for (const c of order) {
      const srv = await startContender(c.kind);
      try {
        const base = { url: srv.url, secret: srv.secret };
        await runWrk({ ...base, conns: o.conns[0]!, seconds: o.warmupSeconds, updateBase: (updateBase += 10_000_000) });
        for (const conns of o.conns) {
          const res = await runWrk({ ...base, conns, seconds: o.seconds, updateBase: (updateBase += 10_000_000) });
          const key = `${c.kind}/${conns}`;
          results.set(key, [...(results.get(key) ?? []), res]);
          log(`round ${r + 1}/${o.rounds} ${c.label.padEnd(26)} c=${conns}: ${fmt(res.reqPerSec)} req/s p50 ${res.p50Ms.toFixed(2)} ms p99 ${res.p99Ms.toFixed(2)} ms errors ${res.errors}`);
        }
      } finally {
        await srv.stop();
      }
    }
  }
  stopFakeApi();
  const rows: IngestRow[] = [];
  for (const c of kinds) {
    for (const conns of o.conns) {
      const rs = results.get(`${c.kind}/${conns}`) ?? [];
      rows.push({
        kind: c.kind,
        label: c.label,
        conns,
        reqPerSec: median(rs.map((x) => x.reqPerSec)),
        p50Ms: median(rs.map((x) => x.p50Ms)),
        p99Ms: median(rs.map((x) => x.p99Ms)),
        errors: rs.reduce((a, x) => a + x.errors, 0),
        rounds: rs,
      });
    }
  }
  return rows;
}

export function ingestTable(rows: IngestRow[]): string {
  return table(
    ["contender", "conns", "req/s (median)", "p50 ms", "p99 ms", "errors (all rounds)", "req/s per round"],
    rows.map((r) => [r.label, r.conns, fmt(r.reqPerSec), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2), r.errors, r.rounds.map((x) => fmt(x.reqPerSec)).join(" / ")]),
  );
}

/**
 * The ratios the issue asks for, per connection count: 3/1, 3/2, 4/2; and two more that say where
 * the gap is: 5/2 (what a durable ack costs on this disk at all) and 3/5 (how close tgwh comes to that).
 */
export function ingestRatios(rows: IngestRow[]): {
  conns: number;
  fullOverBare: number;
  fullOverPeer: number;
  normalOverPeer: number;
  floorOverPeer: number;
  fullOverFloor: number;
  fullOverBunqueue: number;
  normalOverBunqueue: number;
}[] {
  const get = (k: ContenderKind, c: number) => rows.find((r) => r.kind === k && r.conns === c)?.reqPerSec ?? NaN;
  return [...new Set(rows.map((r) => r.conns))].map((c) => ({
    conns: c,
    fullOverBare: get("tgwh-full", c) / get("bare", c),
    fullOverPeer: get("tgwh-full", c) / get("grammy", c),
    normalOverPeer: get("tgwh-normal", c) / get("grammy", c),
    floorOverPeer: get("floor", c) / get("grammy", c),
    fullOverFloor: get("tgwh-full", c) / get("floor", c),
    fullOverBunqueue: get("tgwh-full", c) / get("bunqueue", c),
    normalOverBunqueue: get("tgwh-normal", c) / get("bunqueue", c),
  }));
}

if (import.meta.main) {
  const rounds = Number(process.argv[2] ?? 3);
  const seconds = Number(process.argv[3] ?? 5);
  const kinds = process.argv[4] ? (process.argv[4].split(",") as ContenderKind[]) : undefined;
  const rows = await runIngest({ rounds, seconds, warmupSeconds: 1, conns: [50, 100], kinds });
  console.log(ingestTable(rows));
  for (const r of ingestRatios(rows)) {
    const rate = (k: ContenderKind) => rows.find((x) => x.kind === k && x.conns === r.conns)?.reqPerSec ?? NaN;
    const baseRatios = rows.some((x) => x.kind === "tgwh-full-base") ? `  3b/5 ${(rate("tgwh-full-base") / rate("floor")).toFixed(2)}  3/3b ${(rate("tgwh-full") / rate("tgwh-full-base")).toFixed(2)}` : "";
    console.log(`c=${r.conns}: 3/1 ${r.fullOverBare.toFixed(2)}  3/2 ${r.fullOverPeer.toFixed(2)}  4/2 ${r.normalOverPeer.toFixed(2)}  5/2 ${r.floorOverPeer.toFixed(2)}  3/5 ${r.fullOverFloor.toFixed(2)}  3/6 ${r.fullOverBunqueue.toFixed(2)}${baseRatios}`);
  }
}
