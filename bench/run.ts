/**
 * `make bench`: one run of every figure of issue 8 on this machine, printed as tables and appended
 * to bench/RESULTS.md with the machine's cores, memory, load and versions.
 *
 * Knobs (env): BENCH_ROUNDS (3), BENCH_SECONDS per wrk run (5), BENCH_DRAIN (100000),
 * BENCH_PENDING (1000000), BENCH_LABEL (a name for this run), BENCH_TGWH_BINARY (another build,
 * e.g. an older commit's, for before/after rows), BENCH_SKIP (comma list:
 * ingest,sustained,drain,backlog,scrape,postgres or pg-ingest,pg-drain,pg-claim),
 * BENCH_SUSTAIN_SECONDS (60), BENCH_SUSTAIN_PROBE_SECONDS (10), BENCH_PG_DRAIN (20000),
 * BENCH_RESULTS (another file to append to, e.g. for a trial run with small knobs).
 * Load generators: wrk (Debian package), one thread, Lua script bench/wrk/post-update.lua, for
 * bursts; bench/loader/fixed-rate.c (built with cc) for the sustained, open-loop rates.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Database } from "bun:sqlite";
import { runBacklog, type BacklogResult } from "./backlog";
import { runDrain, type DrainResult } from "./drain";
import { HAVE_POSTGRES } from "../test/support/postgres";
import { pgReport, runPgBench, type PgBenchResult } from "./pg-bench";
import { ingestRatios, ingestTable, runIngest, type IngestRow } from "./ingest";
import { tgwhBinary } from "./lib/contenders";
import { buildFixedRate } from "./lib/fixed-rate";
import { runSustained, sustainedRate, sustainedTable, type SustainedRow } from "./sustained";
import { fmt, machine, table } from "./lib/stats";
import { wrkAvailable } from "./lib/wrk";

const env = process.env;
const rounds = Number(env.BENCH_ROUNDS ?? 3);
const seconds = Number(env.BENCH_SECONDS ?? 5);
const drainCount = Number(env.BENCH_DRAIN ?? 100_000);
const pending = Number(env.BENCH_PENDING ?? 1_000_000);
const skip = new Set((env.BENCH_SKIP ?? "").split(",").filter(Boolean));
const label = env.BENCH_LABEL ?? "";
const sustainSeconds = Number(env.BENCH_SUSTAIN_SECONDS ?? 60);
const sustainProbeSeconds = Number(env.BENCH_SUSTAIN_PROBE_SECONDS ?? 10);
const pgDrainCount = Number(env.BENCH_PG_DRAIN ?? 20_000);
const RESULTS = env.BENCH_RESULTS ? resolve(env.BENCH_RESULTS) : resolve(import.meta.dir, "RESULTS.md");

if (!wrkAvailable()) {
  console.error("make bench needs wrk (Debian: apt-get install -y wrk)");
  process.exit(2);
}

const versionOf = async (cmd: string[]) => {
  try {
    const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
    const [o, e] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    await p.exited;
    return (o || e).split("\n")[0]!.trim();
  } catch {
    return "unknown";
  }
};
const pkgVersion = (name: string) => {
  const f = resolve(import.meta.dir, "../node_modules", name, "package.json");
  return existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as { version: string }).version : "?";
};
const sqliteVersion = (new Database(":memory:").query("SELECT sqlite_version() AS v").get() as { v: string }).v;

const m = machine();
const startedAt = new Date();
const facts = {
  when: startedAt.toISOString().replace(/\.\d+Z$/, "Z"),
  label,
  cores: m.cores,
  cpu: m.cpu,
  memGiB: m.memGiB.toFixed(1),
  loadBefore: m.loadavg.map((x) => x.toFixed(2)).join(" "),
  bun: m.bun,
  sqlite: sqliteVersion,
  grammy: pkgVersion("grammy"),
  bunqueue: pkgVersion("bunqueue"),
  elysia: pkgVersion("elysia"),
  wrk: (await versionOf(["wrk", "--version"])).replace(/ Copyright.*/, ""),
  tgwh: await versionOf([tgwhBinary(), "version"]),
  binary: tgwhBinary(),
};
const log = (l: string) => console.error(l);
log(`bench: ${JSON.stringify(facts)}`);

if (!skip.has("sustained")) buildFixedRate(); // fails early when there is no C compiler

let ingest: IngestRow[] = [];
let sustained: SustainedRow[] = [];
let drain: DrainResult | null = null;
let drainNormal: DrainResult | null = null;
let backlog: BacklogResult | null = null;
let scrapeLine = "";

if (!skip.has("ingest")) ingest = await runIngest({ rounds, seconds, warmupSeconds: 1, conns: [50, 100], log });
if (!skip.has("sustained")) {
  sustained = await runSustained({ kinds: ["tgwh-full", "tgwh-normal", "grammy", "bunqueue"], probeSeconds: sustainProbeSeconds, seconds: sustainSeconds, log });
}
if (!skip.has("drain")) {
  drain = await runDrain(drainCount, "FULL");
  log(`drain FULL: ${fmt(drain.perSecond)} updates/s`);
  drainNormal = await runDrain(drainCount, "NORMAL");
  log(`drain NORMAL: ${fmt(drainNormal.perSecond)} updates/s`);
}
if (!skip.has("backlog")) backlog = await runBacklog(pending, log);
// The metrics helper's own scrape benchmark (issue 5), reused as is: its p50 line.
// (It always runs dist/tgwh, so it is skipped when another build is under test.)
if (!skip.has("scrape") && !env.BENCH_TGWH_BINARY && existsSync(resolve(import.meta.dir, "metrics-scrape.ts"))) {
  const p = Bun.spawn([process.execPath, resolve(import.meta.dir, "metrics-scrape.ts"), "--pending", String(pending), "--scrapes", "10"], {
    stdout: "pipe",
    stderr: "inherit",
    env: { ...process.env },
  });
  const out = await new Response(p.stdout).text();
  await p.exited;
  scrapeLine = out.split("\n").find((l) => l.startsWith("GET /metrics at")) ?? "";
  log(`metrics-scrape.ts: ${scrapeLine || "(no figure)"}`);
}
// PostgreSQL rows last: the SQLite figures above keep the machine to themselves.
let pg: PgBenchResult | null = null;
const pgOptions = { rounds, seconds, conns: 50, drain: pgDrainCount, pending, skip, log };
if (!skip.has("postgres") && HAVE_POSTGRES) pg = await runPgBench(pgOptions);
const loadAfter = machine().loadavg.map((x) => x.toFixed(2)).join(" ");

// ---- report ----
const out: string[] = [];
out.push(`## ${facts.when}${label ? ` · ${label}` : ""}`);
out.push("");
out.push(
  `Machine: ${facts.cores} cores (${facts.cpu}), ${facts.memGiB} GiB RAM; loadavg before ${facts.loadBefore}, after ${loadAfter} ` +
    `(other sessions were running tests on the same machine). Bun ${facts.bun}, SQLite ${facts.sqlite}, grammY ${facts.grammy}, ` +
    `Elysia ${facts.elysia}, bunqueue ${facts.bunqueue}, ${facts.wrk}. tgwh: \`${facts.tgwh}\` (${facts.binary.replace(/.*\/work\/main\//, "")}).`,
);
out.push(`Load generator: wrk, 1 thread, ${seconds} s per figure after a 1 s warm-up, ${rounds} rounds (contender order rotates each round); medians.`);
out.push("");
if (ingest.length) {
  out.push("### Ingest");
  out.push("");
  out.push(ingestTable(ingest));
  out.push("");
  out.push(
    table(
      ["conns", "3/1 tgwh FULL ÷ bare", "3/2 tgwh FULL ÷ grammY", "4/2 tgwh NORMAL ÷ grammY", "5/2 durable floor ÷ grammY", "3/5 tgwh FULL ÷ durable floor", "3/6 tgwh FULL ÷ bunqueue", "4/6 tgwh NORMAL ÷ bunqueue"],
      ingestRatios(ingest).map((r) => [
        r.conns,
        r.fullOverBare.toFixed(2),
        r.fullOverPeer.toFixed(2),
        r.normalOverPeer.toFixed(2),
        r.floorOverPeer.toFixed(2),
        r.fullOverFloor.toFixed(2),
        r.fullOverBunqueue.toFixed(2),
        r.normalOverBunqueue.toFixed(2),
      ]),
    ),
  );
  out.push("");
}
if (sustained.length) {
  out.push(`### Sustained capacity (open-loop fixed rate, ${sustainSeconds} s, 50 connections; ack and processing p99 ≤ 1 s)`);
  out.push("");
  out.push(sustainedTable(sustained, sustainSeconds));
  out.push("");
  const r = (a: string, b: string) => (sustainedRate(sustained, a as never) / sustainedRate(sustained, b as never)).toFixed(2);
  out.push(`tgwh FULL ÷ grammY inline ${r("tgwh-full", "grammy")}, tgwh NORMAL ÷ grammY ${r("tgwh-normal", "grammy")}, tgwh FULL ÷ bunqueue ${r("tgwh-full", "bunqueue")}, tgwh NORMAL ÷ bunqueue ${r("tgwh-normal", "bunqueue")}.`);
  out.push("");
}
const other: (string | number)[][] = [];
if (drain) other.push([`drain ${fmt(drain.count)} stored updates, trivial handler, FULL`, `${fmt(drain.perSecond)} updates/s (${drain.seconds.toFixed(1)} s)`]);
if (drainNormal) other.push([`drain, NORMAL`, `${fmt(drainNormal.perSecond)} updates/s (${drainNormal.seconds.toFixed(1)} s)`]);
if (backlog) {
  const b = backlog;
  other.push([`claim round (up to 32 jobs; median of 100 after 20 warm-up) at 1,000 pending (${fmt(b.claimSmall.ready)} ready)`, `${b.claimSmall.claimUs.toFixed(0)} µs`]);
  other.push([`claim round at ${fmt(b.pending)} pending (${fmt(b.claimLarge.ready)} ready)`, `${b.claimLarge.claimUs.toFixed(0)} µs (ratio ${(b.claimLarge.claimUs / b.claimSmall.claimUs).toFixed(2)}); plan: ${b.claimLarge.plan}`]);
  other.push([`finish one job (done + chain hand-off) at 1 k / ${fmt(b.pending)}`, `${b.claimSmall.finishUs.toFixed(0)} / ${b.claimLarge.finishUs.toFixed(0)} µs`]);
  other.push([`database size per 1,000 jobs`, `${fmt(b.dbBytesPer1k / 1024, 1)} KiB (${fmt((b.dbBytesPer1k * b.pending) / 1000 / 2 ** 20)} MiB at ${fmt(b.pending)})`]);
  other.push([`RSS at ${fmt(b.pending)} pending`, `${b.large.rssReadyMiB.toFixed(0)} MiB when ready; peak ${b.large.rssPeakMiB.toFixed(0)} MiB after 10 s of draining (${fmt(b.large.doneWhileWatching)} done) and the scrapes`]);
  other.push([`cold start to /readyz 200, empty database (median of 5)`, `${b.emptyColdStartMs.toFixed(0)} ms`]);
  other.push([`cold start to /readyz 200 at ${fmt(b.pending)} pending`, `${b.large.coldStartMs.toFixed(0)} ms`]);
  other.push([`GET /metrics at ${fmt(b.pending)} pending, worker draining (median of 5)`, `${b.large.scrapeMs.toFixed(1)} ms, ${fmt(b.large.scrapeBytes)} bytes`]);
  other.push([`binary size`, `${fmt(b.binaryBytes / 2 ** 20, 1)} MiB`]);
}
if (scrapeLine) other.push([`bench/metrics-scrape.ts (backlog kept still, worker off)`, scrapeLine]);
if (other.length) {
  out.push("### Drain, deep queue, start");
  out.push("");
  out.push(table(["figure", "value"], other));
  out.push("");
}

if (pg) out.push(...pgReport(pg, pgOptions));

// Targets of issues 8 and 17.
const targets: (string | number)[][] = [];
const ratios = ingestRatios(ingest);
const full50 = ingest.find((r) => r.kind === "tgwh-full" && r.conns === 50);
const mark = (ok: boolean) => (ok ? "met" : "**missed**");
for (const r of ratios) targets.push([`durable ingest ≥ 0.6 × the durable floor at ${r.conns} conns (issue 17)`, r.fullOverFloor.toFixed(2), mark(r.fullOverFloor >= 0.6)]);
if (full50) targets.push(["p99 ack ≤ 10 ms at 50 conns (tgwh FULL)", `${full50.p99Ms.toFixed(2)} ms`, mark(full50.p99Ms <= 10)]);
for (const r of ratios) targets.push([`ingest tgwh FULL ≥ 1.5 × grammY + bunqueue at ${r.conns} conns (issue 17)`, r.fullOverBunqueue.toFixed(2), mark(r.fullOverBunqueue >= 1.5)]);
if (sustained.length) {
  const s = sustainedRate(sustained, "tgwh-full") / sustainedRate(sustained, "bunqueue");
  targets.push(["sustained capacity tgwh FULL ≥ 1.5 × grammY + bunqueue (issue 17)", s.toFixed(2), mark(s >= 1.5)]);
}
for (const r of ratios.filter((x) => x.conns === 50)) targets.push(["durable ingest ≥ 1.0 × grammY at 50 conns (issue 8; out of reach on this disk, see the floor)", r.fullOverPeer.toFixed(2), mark(r.fullOverPeer >= 1)]);
if (drain) targets.push(["drain ≥ 5,000 updates/s", fmt(drain.perSecond), mark(drain.perSecond >= 5000)]);
if (backlog) {
  const r = backlog.claimLarge.claimUs / backlog.claimSmall.claimUs;
  targets.push(["claim at 1 M ≤ 2 × claim at 1 k", r.toFixed(2), mark(r <= 2)]);
  targets.push(["RSS ≤ 150 MB at 1 M pending", `${backlog.large.rssPeakMiB.toFixed(0)} MiB peak`, mark(backlog.large.rssPeakMiB * 1.048576 <= 150)]);
  targets.push(["cold start ≤ 300 ms", `${backlog.emptyColdStartMs.toFixed(0)} ms`, mark(backlog.emptyColdStartMs <= 300)]);
}
if (pg?.claim) {
  const r = pg.claim.large.claimUs / pg.claim.small.claimUs;
  targets.push([`PostgreSQL claim at ${fmt(pending)} ≤ 2 × claim at 1 k (issue 15)`, r.toFixed(2), mark(r <= 2)]);
}
if (targets.length) {
  out.push("### Targets");
  out.push("");
  out.push(table(["target", "this run", ""], targets));
  out.push("");
}

const report = out.join("\n");
console.log(report);
if (!existsSync(RESULTS)) appendFileSync(RESULTS, "# tgwh benchmark results\n\nAppended by `make bench` (bench/run.ts); newest last. See docs/performance.md for what the figures mean.\n\n");
appendFileSync(RESULTS, `${report}\n`);
log(`appended to ${RESULTS}`);
