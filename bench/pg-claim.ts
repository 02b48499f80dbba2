/**
 * Claim cost on PostgreSQL at 1,000 vs 1,000,000 pending jobs, measured as bench/backlog.ts
 * measures SQLite's: the store's own statements (src/store/postgres/claim.ts, finish.ts) on a
 * throwaway PostgreSQL 15 (test/support/postgres.ts), chains of 10 updates per chat, each round
 * (expire leases + claim up to 32 + finish them) in a transaction that is rolled back so every
 * round sees the same backlog. Plans come from EXPLAIN ANALYZE of the claim under a generic plan
 * (what a prepared statement gets after five runs).
 * Run alone: bun bench/pg-claim.ts [pending=1000000]
 */
import type { SQL } from "bun";
import { claimJobs, expireLeases } from "../src/store/postgres/claim";
import { createPostgresStore } from "../src/store/postgres";
import { finishBatchInTx } from "../src/store/postgres/finish";
import { startPostgres, type TestPostgres } from "../test/support/postgres";
import { updateJob } from "./lib/fill";
import { fmt, median } from "./lib/stats";

const CLAIM_LIMIT = 32;

export interface PgClaimCost {
  pending: number;
  ready: number;
  /** Median microseconds of one claim round (lease expiry check + claim up to CLAIM_LIMIT). */
  claimUs: number;
  /** Median microseconds per finished job, the round's jobs finished as one batch (locks + done + hand the chains' turns on). */
  finishUs: number;
  /** The claim's generic plan, node by node. */
  plan: string;
  /** Shared buffers the claim touched (EXPLAIN BUFFERS): what "O(log n)" looks like in pages. */
  buffers: string;
}

/** Stores `count` pending updates through the store's insert path, 20,000 per transaction. */
export async function fillPg(url: string, count: number, chats: number): Promise<void> {
  const store = await createPostgresStore({ url, applicationName: "tgwh bench fill", migrate: true, maxConnections: 2 });
  try {
    const runAt = Date.now() - 1000;
    for (let start = 0; start < count; start += 20_000) {
      const n = Math.min(20_000, count - start);
      await store.jobs.insert(Array.from({ length: n }, (_, i) => updateJob(1 + start + i, runAt, chats)));
    }
    await store.internals.pg.sql.unsafe("VACUUM ANALYZE jobs");
  } finally {
    await store.close();
  }
}

const CLAIM_SQL = `SELECT id FROM jobs WHERE state = 'pending' AND ready = 1 AND run_at <= $1 ORDER BY run_at, id LIMIT $2 FOR UPDATE SKIP LOCKED`;

async function explainClaim(conn: SQL): Promise<{ plan: string; buffers: string }> {
  await conn.unsafe("SET plan_cache_mode = force_generic_plan");
  await conn.unsafe(`PREPARE bench_claim(int8, int4) AS ${CLAIM_SQL}`);
  const rows = await conn.unsafe<{ "QUERY PLAN": string }[]>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) EXECUTE bench_claim(${Date.now()}, ${CLAIM_LIMIT})`);
  await conn.unsafe("DEALLOCATE bench_claim");
  await conn.unsafe("RESET plan_cache_mode");
  const lines = rows.map((r) => r["QUERY PLAN"].trim());
  const plan = lines.filter((l) => /^(->\s*)?(Limit|LockRows|Index|Seq|Bitmap|Sort)/.test(l)).map((l) => l.replace(/^->\s*/, "").replace(/\s*\(actual.*$/, "")).join(" → ");
  const buffers = lines.find((l) => l.startsWith("Buffers:")) ?? "";
  return { plan, buffers };
}

export async function measureClaimPg(url: string, pending: number, rounds = 100, warmup = 20): Promise<PgClaimCost> {
  const store = await createPostgresStore({ url, applicationName: "tgwh bench claim", migrate: false, maxConnections: 2 });
  const conn = await store.internals.pg.sql.reserve();
  try {
    const [r] = await conn.unsafe(`SELECT count(*)::int AS n FROM jobs WHERE state = 'pending' AND ready = 1`);
    const claimTimes: number[] = [];
    const finishTimes: number[] = [];
    for (let i = 0; i < warmup + rounds; i++) {
      const now = Date.now();
      await conn.unsafe("BEGIN");
      try {
        const a = performance.now();
        await expireLeases(conn, now);
        const jobs = await claimJobs(conn, { owner: "bench", leaseMs: 30_000, limit: CLAIM_LIMIT, now });
        const b = performance.now();
        // The worker's finishes of a tick go in one batch (finish.ts).
        await finishBatchInTx(conn, jobs.map((j) => ({ job: { id: j.id, owner: "bench", orderKey: j.orderKey, attempts: j.attempts, errors: null }, f: { type: "done", error: null } as const })), now);
        const c = performance.now();
        if (i >= warmup) {
          claimTimes.push((b - a) * 1000);
          if (jobs.length) finishTimes.push(((c - b) * 1000) / jobs.length);
        }
      } finally {
        // Rolled back: every round sees exactly `pending` jobs.
        await conn.unsafe("ROLLBACK");
      }
    }
    const { plan, buffers } = await explainClaim(conn);
    return { pending, ready: r.n, claimUs: median(claimTimes), finishUs: median(finishTimes), plan, buffers };
  } finally {
    await conn.release();
    await store.close();
  }
}

export interface PgClaimResult {
  small: PgClaimCost;
  large: PgClaimCost;
  fillSeconds: number;
}

/** Both sizes on one throwaway server (started here unless one is given). */
export async function runPgClaim(pending = 1_000_000, log: (l: string) => void = (l) => console.error(l), given?: TestPostgres): Promise<PgClaimResult> {
  const server = given ?? (await startPostgres());
  try {
    const small = await server.createDatabase();
    await fillPg(small.url, 1000, 100);
    const smallCost = await measureClaimPg(small.url, 1000);
    log(`postgres: claim at 1,000 pending (${smallCost.ready} ready): ${smallCost.claimUs.toFixed(0)} us per round; ${smallCost.buffers}`);
    const large = await server.createDatabase();
    const t0 = performance.now();
    await fillPg(large.url, pending, pending / 10);
    const fillSeconds = (performance.now() - t0) / 1000;
    log(`postgres: filled ${fmt(pending)} pending in ${fillSeconds.toFixed(1)} s`);
    const largeCost = await measureClaimPg(large.url, pending);
    log(`postgres: claim at ${fmt(pending)} pending (${fmt(largeCost.ready)} ready): ${largeCost.claimUs.toFixed(0)} us per round; ${largeCost.buffers}`);
    log(`postgres: ratio ${(largeCost.claimUs / smallCost.claimUs).toFixed(2)}; plan: ${largeCost.plan}`);
    await small.drop();
    await large.drop();
    return { small: smallCost, large: largeCost, fillSeconds };
  } finally {
    if (!given) await server.dispose();
  }
}

if (import.meta.main) {
  const pending = Number(process.argv[2] ?? 1_000_000);
  const r = await runPgClaim(pending);
  console.log(JSON.stringify(r, null, 2));
}
