/**
 * A deep queue: claim cost at 1,000 vs 1,000,000 pending (the real SQLite store code of src/store/sqlite on a
 * temp file), database size per 1,000 jobs, and dist/tgwh on the 1 M database: cold start to
 * /readyz 200, RSS while it drains, and /metrics scrapes. Plus cold start on an empty database
 * and the binary's size.
 * Run alone: bun bench/backlog.ts [pending=1000000]
 */
import { copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { claimJobs, expireLeases } from "../src/store/sqlite/claim";
import { openDb } from "../src/store/sqlite/connection";
import { finishJob } from "../src/store/sqlite/finish";
import { prepareJobStatements } from "../src/store/sqlite/job-statements";
import { removeDir, TEST_BOT_TOKEN, TEST_SECRET, tempDir } from "../test/support/tgwh";
import { stopFakeApi, tgwhBinary, tgwhEnv } from "./lib/contenders";
import { fillUpdates } from "./lib/fill";
import { fileSize, fmt, median, rssOf } from "./lib/stats";
import { createChainOrder } from "../src/store/sqlite/chains/access";

const CLAIM_LIMIT = 32; // the worker's default concurrency: one claim round takes up to this many

export interface ClaimCost {
  pending: number;
  ready: number;
  /** Median microseconds of one claim round (expire leases + claim up to CLAIM_LIMIT), no fsync. */
  claimUs: number;
  /** Median microseconds per finished job (done + hand the chain's turn on). */
  finishUs: number;
  plan: string;
}

/** Times claim rounds on an existing database through the store's own statements; each round is rolled back. */
export function measureClaim(dbPath: string, pending: number, rounds = 100, warmup = 20): ClaimCost {
  const db = openDb({ path: dbPath, synchronous: "NORMAL", busyTimeoutMs: 5000, migrate: true });
  try {
    db.sqlite.run("PRAGMA synchronous = OFF"); // the statements' cost, not the disk's
    const stmts = prepareJobStatements(db.sqlite);
    const chains = createChainOrder(db.sqlite);
    const ready = (db.sqlite.query("SELECT count(*) AS n FROM jobs INDEXED BY jobs_claim WHERE state = 'pending' AND ready = 1").get() as { n: number }).n;
    const plan = (db.sqlite.query(
      "EXPLAIN QUERY PLAN SELECT id FROM jobs INDEXED BY jobs_claim WHERE state = 'pending' AND ready = 1 AND run_at <= ? ORDER BY run_at, id LIMIT ?",
    ).all(Date.now(), CLAIM_LIMIT) as { detail: string }[]).map((r) => r.detail).join("; ");
    const claimTimes: number[] = [];
    const finishTimes: number[] = [];
    // The first rounds read cold pages into SQLite's cache (a freshly written file): not counted.
    for (let i = 0; i < warmup + rounds; i++) {
      const now = Date.now();
      db.sqlite.run("BEGIN IMMEDIATE");
      const a = performance.now();
      expireLeases(stmts, chains, now);
      const jobs = claimJobs(stmts, { owner: "bench", leaseMs: 30_000, limit: CLAIM_LIMIT, now });
      const b = performance.now();
      for (const j of jobs) finishJob(stmts, chains, { id: j.id, owner: "bench", orderKey: j.orderKey, attempts: j.attempts, errors: null }, { type: "done", error: null }, now);
      const c = performance.now();
      // Rolled back: every round sees exactly `pending` jobs (1,000 would run out otherwise).
      db.sqlite.run("ROLLBACK");
      if (i < warmup) continue;
      claimTimes.push((b - a) * 1000);
      if (jobs.length) finishTimes.push(((c - b) * 1000) / jobs.length);
    }
    return { pending, ready, claimUs: median(claimTimes), finishUs: median(finishTimes), plan };
  } finally {
    db.close();
  }
}

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

export interface ServeFigures {
  coldStartMs: number;
  rssReadyMiB: number;
  rssPeakMiB: number;
  scrapeMs: number;
  scrapeBytes: number;
  doneWhileWatching: number;
}

/** Starts dist/tgwh on dbPath, times process start → /readyz 200, then watches it for `watchSeconds`. */
export async function startAndWatch(dir: string, dbPath: string, watchSeconds: number, scrapes: number): Promise<ServeFigures> {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    TGWH_DB: dbPath,
    TGWH_LISTEN: `127.0.0.1:${port}`,
    TGWH_BOT_TOKEN: TEST_BOT_TOKEN,
    TGWH_WEBHOOK_SECRET: TEST_SECRET,
    ...tgwhEnv("FULL"),
  };
  const started = performance.now();
  const proc = Bun.spawn([tgwhBinary(), "serve"], { env, stdout: Bun.file(join(dir, `serve-${port}.log`)), stderr: "inherit", stdin: "ignore" });
  try {
    const url = `http://127.0.0.1:${port}`;
    let coldStartMs = NaN;
    while (performance.now() - started < 30_000) {
      if (proc.exitCode !== null) throw new Error(`tgwh exited with ${proc.exitCode} during start`);
      try {
        if ((await fetch(`${url}/readyz`)).status === 200) {
          coldStartMs = performance.now() - started;
          break;
        }
      } catch {
        // not listening yet
      }
      await Bun.sleep(2);
    }
    const rssReadyMiB = rssOf(proc.pid).rssMiB;
    const doneBefore = await succeeded(url);
    await Bun.sleep(watchSeconds * 1000);
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < scrapes; i++) {
      const t = performance.now();
      const body = await (await fetch(`${url}/metrics`)).text();
      times.push(performance.now() - t);
      bytes = body.length;
    }
    const doneAfter = await succeeded(url);
    return { coldStartMs, rssReadyMiB, rssPeakMiB: rssOf(proc.pid).peakMiB, scrapeMs: median(times), scrapeBytes: bytes, doneWhileWatching: doneAfter - doneBefore };
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

async function succeeded(url: string): Promise<number> {
  const m = await (await fetch(`${url}/metrics`)).text();
  return Number(/^tgwh_jobs_succeeded_total\{kind="telegram\.update"\} (\d+)/m.exec(m)?.[1] ?? 0);
}

export interface BacklogResult {
  pending: number;
  fillSeconds: number;
  claimSmall: ClaimCost;
  claimLarge: ClaimCost;
  dbBytesPer1k: number;
  large: ServeFigures;
  emptyColdStartMs: number;
  binaryBytes: number;
}

export async function runBacklog(pending = 1_000_000, log: (l: string) => void = (l) => console.error(l)): Promise<BacklogResult> {
  if (!existsSync(tgwhBinary())) throw new Error(`${tgwhBinary()} is missing: run make build`);
  const dir = tempDir("tgwh-bench-backlog-");
  try {
    // 1 k: chains of 10 updates per chat, as in the large one.
    const small = join(dir, "small.db");
    fillUpdates(small, 1000, { chats: 100 });
    const claimSmall = measureClaim(small, 1000);
    log(`claim at 1,000 pending (${claimSmall.ready} ready): ${claimSmall.claimUs.toFixed(0)} us per round`);

    const large = join(dir, "large.db");
    const t0 = performance.now();
    fillUpdates(large, pending, { chats: pending / 10 });
    const fillSeconds = (performance.now() - t0) / 1000;
    const dbBytesPer1k = ((fileSize(large) + fileSize(`${large}-wal`)) / pending) * 1000;
    log(`filled ${fmt(pending)} pending in ${fillSeconds.toFixed(1)} s; ${fmt(dbBytesPer1k / 1024, 1)} KiB per 1,000 jobs`);
    const claimLarge = measureClaim(large, pending);
    log(`claim at ${fmt(pending)} pending (${fmt(claimLarge.ready)} ready): ${claimLarge.claimUs.toFixed(0)} us per round`);

    const largeFigures = await startAndWatch(dir, large, 10, 5);
    log(`tgwh on ${fmt(pending)} pending: ready in ${largeFigures.coldStartMs.toFixed(0)} ms, RSS ${largeFigures.rssReadyMiB.toFixed(0)} MiB at ready, peak ${largeFigures.rssPeakMiB.toFixed(0)} MiB; /metrics ${largeFigures.scrapeMs.toFixed(1)} ms`);

    // Cold start on an empty, migrated database (getMe cached by the first start, as in production).
    const empty = join(dir, "empty.db");
    fillUpdates(empty, 0);
    await startAndWatch(dir, empty, 0, 0);
    const colds: number[] = [];
    for (let i = 0; i < 5; i++) colds.push((await startAndWatch(dir, empty, 0, 0)).coldStartMs);
    const emptyColdStartMs = median(colds);
    log(`cold start on an empty database: ${colds.map((c) => c.toFixed(0)).join(" / ")} ms`);
    return { pending, fillSeconds, claimSmall, claimLarge, dbBytesPer1k, large: largeFigures, emptyColdStartMs, binaryBytes: fileSize(tgwhBinary()) };
  } finally {
    stopFakeApi();
    removeDir(dir);
  }
}

if (import.meta.main) {
  const r = await runBacklog(Number(process.argv[2] ?? 1_000_000));
  console.log(JSON.stringify(r, null, 2));
}
