/**
 * The PostgreSQL rows of `make bench` (issue 15, item 7), on one throwaway PostgreSQL with fsync
 * on (test/support/postgres.ts, durable): what one more gateway buys and what it costs.
 *
 * - Ingest: wrk against one gateway, then against two gateways on the same database (one wrk
 *   per gateway, half the connections each, run together: req/s summed, p99 the worse of the two),
 *   interleaved round by round (the order rotates) so the machine's noise lands on both alike.
 * - Drain: N stored updates (the trivial handler) processed by one gateway, then by two.
 * - Claim at 1,000 vs `pending` jobs: bench/pg-claim.ts.
 *
 * All gateways run on this machine: two gateways share its cores, so the two-gateway rows show the
 * database's side of scaling out (what the shared store costs), not a second VM's CPU.
 * Run alone: bun bench/pg-bench.ts [rounds] [seconds] [drain] [pending]
 */
import { startGateway } from "../test/support/gateways";
import { startPostgres, type TestPostgres } from "../test/support/postgres";
import { TEST_SECRET, waitFor, type TgwhProcess } from "../test/support/tgwh";
import { stopFakeApi, tgwhBinary, tgwhEnv } from "./lib/contenders";
import { fmt, median, table } from "./lib/stats";
import { runWrk, type WrkResult } from "./lib/wrk";
import { fillPg, runPgClaim, type PgClaimResult } from "./pg-claim";

export interface PgBenchOptions {
  rounds: number;
  seconds: number;
  conns: number;
  drain: number;
  pending: number;
  skip?: Set<string>;
  log?: (line: string) => void;
}

export interface PgIngestRow {
  gateways: number;
  reqPerSec: number;
  p99Ms: number;
  errors: number;
  perRound: number[];
}

export interface PgDrainRow {
  gateways: number;
  count: number;
  perSecond: number;
  seconds: number;
}

export interface PgBenchResult {
  server: string;
  ingest: PgIngestRow[];
  drain: PgDrainRow[];
  claim: PgClaimResult | null;
}

let updateBase = 3_000_000_000;

/** `n` gateways (dist/tgwh as shipped, or BENCH_TGWH_BINARY) on one database. */
async function gateways(n: number, databaseUrl: string): Promise<TgwhProcess[]> {
  const out: TgwhProcess[] = [];
  for (let i = 1; i <= n; i++) out.push(await startGateway({ binary: tgwhBinary(), databaseUrl, instanceId: `bench${i}`, env: tgwhEnv("FULL") }));
  return out;
}

async function stopAll(gws: TgwhProcess[]): Promise<void> {
  await Promise.all(gws.map((g) => g.stop()));
}

/** One wrk per gateway, the connections split between them, all at once. */
async function wrkAcross(gws: TgwhProcess[], conns: number, seconds: number, secret: string): Promise<WrkResult> {
  const each = Math.max(1, Math.round(conns / gws.length));
  const rs = await Promise.all(gws.map((g) => runWrk({ url: `${g.url}/telegram/webhook`, conns: each, seconds, secret, updateBase: (updateBase += 10_000_000) })));
  return {
    conns,
    requests: rs.reduce((a, r) => a + r.requests, 0),
    reqPerSec: rs.reduce((a, r) => a + r.reqPerSec, 0),
    errors: rs.reduce((a, r) => a + r.errors, 0),
    p50Ms: Math.max(...rs.map((r) => r.p50Ms)),
    p99Ms: Math.max(...rs.map((r) => r.p99Ms)),
  };
}

async function runPgIngest(server: TestPostgres, o: PgBenchOptions, log: (l: string) => void): Promise<PgIngestRow[]> {
  const counts = [1, 2];
  const results = new Map<number, WrkResult[]>();
  for (let r = 0; r < o.rounds; r++) {
    for (const n of r % 2 ? [...counts].reverse() : counts) {
      const db = await server.createDatabase();
      const gws = await gateways(n, db.url);
      try {
        await wrkAcross(gws, o.conns, 1, TEST_SECRET); // warm-up
        const res = await wrkAcross(gws, o.conns, o.seconds, TEST_SECRET);
        results.set(n, [...(results.get(n) ?? []), res]);
        log(`postgres round ${r + 1}/${o.rounds} ${n} gateway(s) c=${o.conns}: ${fmt(res.reqPerSec)} req/s p99 ${res.p99Ms.toFixed(2)} ms errors ${res.errors}`);
      } finally {
        await stopAll(gws);
        await db.drop();
      }
    }
  }
  return counts.map((n) => {
    const rs = results.get(n) ?? [];
    return { gateways: n, reqPerSec: median(rs.map((x) => x.reqPerSec)), p99Ms: median(rs.map((x) => x.p99Ms)), errors: rs.reduce((a, x) => a + x.errors, 0), perRound: rs.map((x) => x.reqPerSec) };
  });
}

/** `count` stored updates drained by `n` gateways from a cold start; the span comes from the jobs table. */
async function runPgDrain(server: TestPostgres, n: number, count: number): Promise<PgDrainRow> {
  const db = await server.createDatabase();
  try {
    await fillPg(db.url, count, 1000);
    const gws = await gateways(n, db.url);
    const doneCount = async () => Number((await server.admin<{ n: string }>(`SELECT count(*) AS n FROM jobs WHERE state = 'done'`, [], db.name))[0]!.n);
    try {
      await waitFor(async () => (await doneCount()) >= count, 600_000, `${count} jobs done on PostgreSQL`, gws[0]!.logs);
    } finally {
      await stopAll(gws);
    }
    const [span] = await server.admin<{ a: string; b: string; n: string }>(`SELECT min(started_at) AS a, max(finished_at) AS b, count(*) AS n FROM jobs WHERE state = 'done'`, [], db.name);
    const seconds = (Number(span!.b) - Number(span!.a)) / 1000;
    return { gateways: n, count: Number(span!.n), seconds, perSecond: Number(span!.n) / seconds };
  } finally {
    await db.drop();
  }
}

export async function runPgBench(o: PgBenchOptions): Promise<PgBenchResult> {
  const log = o.log ?? ((l: string) => console.error(l));
  const skip = o.skip ?? new Set<string>();
  const server = await startPostgres({ durable: true });
  try {
    const [version] = await server.admin<{ v: string }>("SELECT current_setting('server_version') AS v");
    const ingest = skip.has("pg-ingest") ? [] : await runPgIngest(server, o, log);
    const drain: PgDrainRow[] = [];
    if (!skip.has("pg-drain")) {
      for (const n of [1, 2]) {
        const row = await runPgDrain(server, n, o.drain);
        log(`postgres drain, ${n} gateway(s): ${fmt(row.perSecond)} updates/s (${row.seconds.toFixed(1)} s)`);
        drain.push(row);
      }
    }
    const claim = skip.has("pg-claim") ? null : await runPgClaim(o.pending, log, server);
    return { server: `PostgreSQL ${version!.v} (fsync on, synchronous_commit on)`, ingest, drain, claim };
  } finally {
    stopFakeApi();
    await server.dispose();
  }
}

/** The report's PostgreSQL section (markdown lines), beside the SQLite rows of the same run. */
export function pgReport(r: PgBenchResult, o: Pick<PgBenchOptions, "conns" | "seconds" | "rounds">): string[] {
  const out = [`### PostgreSQL store (${r.server}, on this machine, gateways on this machine too)`, ""];
  if (r.ingest.length) {
    out.push(
      table(
        ["gateways on one database", "conns (split)", "req/s (median)", "p99 ms", "errors", "req/s per round"],
        r.ingest.map((x) => [x.gateways, o.conns, fmt(x.reqPerSec), x.p99Ms.toFixed(2), x.errors, x.perRound.map((v) => fmt(v)).join(" / ")]),
      ),
    );
    const [one, two] = r.ingest;
    if (one && two) out.push("", `Two gateways ÷ one: ${(two.reqPerSec / one.reqPerSec).toFixed(2)} (wrk ${o.seconds} s, ${o.rounds} rounds, interleaved).`);
    out.push("");
  }
  const rows: (string | number)[][] = r.drain.map((d) => [`drain ${fmt(d.count)} stored updates, ${d.gateways} gateway(s)`, `${fmt(d.perSecond)} updates/s (${d.seconds.toFixed(1)} s)`]);
  if (r.claim) {
    const { small, large } = r.claim;
    rows.push([`claim round at 1,000 pending (${fmt(small.ready)} ready)`, `${small.claimUs.toFixed(0)} µs`]);
    rows.push([`claim round at ${fmt(large.pending)} pending (${fmt(large.ready)} ready)`, `${large.claimUs.toFixed(0)} µs (ratio ${(large.claimUs / small.claimUs).toFixed(2)}); plan: ${large.plan}`]);
    rows.push([`finish one job at 1 k / ${fmt(large.pending)}`, `${small.finishUs.toFixed(0)} / ${large.finishUs.toFixed(0)} µs`]);
  }
  if (rows.length) out.push(table(["figure", "value"], rows), "");
  return out;
}

if (import.meta.main) {
  const [rounds, seconds, drain, pending] = process.argv.slice(2).map(Number);
  const o = { rounds: rounds || 3, seconds: seconds || 5, conns: 50, drain: drain || 20_000, pending: pending || 1_000_000 };
  console.log(pgReport(await runPgBench(o), o).join("\n"));
}
