/**
 * Drain: N stored updates (default 100,000) with the trivial handler (message updates without a
 * command are ignored by the bot), processed by dist/tgwh from a cold start. Rate = N / (last
 * finished_at - first started_at), both read from the jobs table afterwards.
 * Run alone: bun bench/drain.ts [count] [FULL|NORMAL]
 */
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { removeDir, startTgwh, tempDir, waitFor } from "../test/support/tgwh";
import { stopFakeApi, tgwhBinary, tgwhEnv } from "./lib/contenders";
import { countsByState, fillUpdates } from "./lib/fill";
import { fmt } from "./lib/stats";

export interface DrainResult {
  count: number;
  perSecond: number;
  seconds: number;
  sync: "FULL" | "NORMAL";
  concurrency: string;
}

export async function runDrain(count = 100_000, sync: "FULL" | "NORMAL" = "FULL", extraEnv: Record<string, string> = {}): Promise<DrainResult> {
  const dir = tempDir("tgwh-bench-drain-");
  const dbPath = join(dir, "tgwh.db");
  try {
    fillUpdates(dbPath, count);
    const t = await startTgwh({ binary: tgwhBinary(), dir, dbPath, env: tgwhEnv(sync, extraEnv) });
    try {
      await waitFor(() => (countsByState(dbPath).done ?? 0) >= count, 600_000, `${count} jobs done`, t.logs);
    } finally {
      await t.stop();
    }
    const db = new Database(dbPath, { readonly: true });
    const span = db.query("SELECT min(started_at) AS a, max(finished_at) AS b, count(*) AS n FROM jobs WHERE state = 'done'").get() as { a: number; b: number; n: number };
    db.close();
    const seconds = (span.b - span.a) / 1000;
    return { count: span.n, seconds, perSecond: span.n / seconds, sync, concurrency: extraEnv.TGWH_WORKER_CONCURRENCY ?? "default" };
  } finally {
    stopFakeApi();
    removeDir(dir);
  }
}

if (import.meta.main) {
  const count = Number(process.argv[2] ?? 100_000);
  const sync = (process.argv[3] ?? "FULL") as "FULL" | "NORMAL";
  const env: Record<string, string> = process.argv[4] ? { TGWH_WORKER_CONCURRENCY: process.argv[4] } : {};
  const r = await runDrain(count, sync, env);
  console.log(`drain ${fmt(r.count)} updates (${r.sync}, concurrency ${r.concurrency}): ${fmt(r.perSecond)} updates/s over ${r.seconds.toFixed(2)} s`);
}
