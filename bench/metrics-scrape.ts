/**
 * What does one GET /metrics cost when the queue is deep? Fills a temporary database with
 * `--pending` runnable pending jobs (and `--done` finished ones) in one INSERT … SELECT each,
 * starts the compiled binary on it with an unreachable Bot API (so the worker never starts and the
 * backlog stays put), then times scrapes, and webhook acks with and without a scraper running.
 *
 *   make build && node_modules/.bin/bun bench/metrics-scrape.ts [--pending 1000000] [--done 0] [--scrapes 30]
 *
 * Prints figures only; nothing here asserts a time.
 */
import { Database } from "bun:sqlite";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createQueueStats } from "../src/store/sqlite/stats";
import { BINARY, postUpdate, runTgwh, startTgwh, TEST_BOT_TOKEN, TEST_SECRET, messageUpdate, tempDir } from "../test/support/tgwh";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const pending = arg("pending", 1_000_000);
const done = arg("done", 0);
const scrapes = arg("scrapes", 30);

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return `min ${s[0]!.toFixed(2)} ms · p50 ${at(0.5).toFixed(2)} ms · p95 ${at(0.95).toFixed(2)} ms · max ${s[s.length - 1]!.toFixed(2)} ms (n=${s.length})`;
};

/** Inserts `n` jobs of one state in a single statement from a recursive counter. */
function fill(db: Database, n: number, state: "pending" | "done", idOffset: number, now: number) {
  if (n <= 0) return;
  db.run(
    `INSERT INTO jobs (kind, dedupe_key, order_key, seq, ready, payload, state, attempts, max_attempts, run_at, created_at, finished_at)
     WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?1)
     SELECT CASE WHEN x % 10 = 0 THEN 'notify.send' ELSE 'telegram.update' END,
            'bench:' || (x + ?2), NULL, x + ?2, 1, '{"update_id":' || (x + ?2) || '}', ?3, 0, 8,
            ?4 - 60000 + x % 1000, ?4 - 60000, CASE WHEN ?3 = 'done' THEN ?4 ELSE NULL END
     FROM c`,
    [n, idOffset, state, now],
  );
}

const dir = tempDir("tgwh-bench-metrics-");
const dbPath = join(dir, "tgwh.db");
try {
  const env = { TGWH_DB: dbPath, TGWH_BOT_TOKEN: TEST_BOT_TOKEN, TGWH_WEBHOOK_SECRET: TEST_SECRET };
  const mig = await runTgwh(["migrate"], env);
  if (mig.code !== 0) throw new Error(`tgwh migrate failed: ${mig.stderr}`);

  const t0 = performance.now();
  const db = new Database(dbPath);
  db.run("PRAGMA synchronous = OFF");
  const now = Date.now();
  db.transaction(() => {
    fill(db, done, "done", 0, now);
    fill(db, pending, "pending", done, now);
  })();
  db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  console.log(`filled ${pending} pending + ${done} done jobs in ${((performance.now() - t0) / 1000).toFixed(1)} s (${BINARY})`);

  // The queue part of a scrape alone, in this process: the store's snapshot against the exact
  // GROUP BY it replaced (kept here only as the comparison).
  const timeIt = (f: () => unknown) => {
    f();
    const xs: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      f();
      xs.push(performance.now() - t);
    }
    return stats(xs);
  };
  const snapshot = createQueueStats(db, Date.now);
  const groupBy = db.prepare("SELECT state, kind, count(*) AS count FROM jobs INDEXED BY jobs_state_kind GROUP BY state, kind");
  console.log(`queue snapshot (bounded counts):  ${timeIt(() => snapshot.snapshot())}`);
  console.log(`exact GROUP BY state, kind:       ${timeIt(() => groupBy.all())}`);
  db.close();

  // Port 9 on loopback refuses connections: getMe fails, the worker never claims, the backlog stays.
  const tg = await startTgwh({ dir, dbPath, waitReady: false, env: { TGWH_TELEGRAM_API: "http://127.0.0.1:9", TGWH_LOG_LEVEL: "info" } });
  try {
    const scrape = async () => {
      const t = performance.now();
      const res = await fetch(`${tg.url}/metrics`);
      const body = await res.text();
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
      return { ms: performance.now() - t, body };
    };
    const first = await scrape();
    const pendingLine = first.body.split("\n").filter((l) => l.startsWith("tgwh_queue_"));
    console.log(`first scrape ${first.ms.toFixed(1)} ms; queue lines:\n  ${pendingLine.join("\n  ")}`);
    const times: number[] = [];
    for (let i = 0; i < scrapes; i++) times.push((await scrape()).ms);
    console.log(`GET /metrics at ${pending} pending: ${stats(times)}`);

    // Webhook acks alone, then with a scraper hammering /metrics (worst case, far above 1/15 s).
    const acks = async (from: number, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        const res = await postUpdate(tg.url, messageUpdate(10_000_000 + from + i, 42, "hi"));
        await res.arrayBuffer();
        out.push(performance.now() - t);
      }
      return out;
    };
    console.log(`webhook ack, no scraper:      ${stats(await acks(0, 200))}`);
    let scraping = true;
    const scraper = (async () => {
      while (scraping) await scrape();
    })();
    const during = await acks(1000, 200);
    scraping = false;
    await scraper;
    console.log(`webhook ack, scraper looping: ${stats(during)}`);
  } finally {
    await tg.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
