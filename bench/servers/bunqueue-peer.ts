/**
 * Contender 6 (the durable peer a user would pick instead of tgwh): grammY's own
 * webhookCallback(bot, "std/http") under Bun.serve, checking the same secret header, whose only
 * middleware hands each update to bunqueue (the Bun-native SQLite job queue, embedded, one file)
 * with `durable: true` and answers once the add returned; a bunqueue Worker (concurrency 32, as
 * tgwh's default) runs the same trivial handler through a second grammY Bot's handleUpdate.
 *
 * Durability, read from bunqueue 2.9.5's code, not its marketing: `durable: true` skips bunqueue's
 * 10 ms write buffer and INSERTs the job in its own autocommit transaction before add() resolves,
 * but bunqueue opens SQLite with `journal_mode=WAL, synchronous=NORMAL` hard-coded (its
 * SqliteConfig.synchronous option is never read), so a commit is not fsynced: an acknowledged
 * update survives a crash of the process, not a power loss or a kernel panic. That is the class
 * of `tgwh NORMAL`, not of tgwh's default FULL. BENCH_BUNQUEUE_SYNC=FULL sets
 * `PRAGMA synchronous=FULL` on bunqueue's own connection (reached through its manager's
 * storage.db, not a public option): then every add waits for an fsync on the event loop.
 *
 * GET /bench/stats answers {added, done, backlog, p50Ms, p99Ms, maxMs} for processing latency
 * (webhook receipt → handler finished), reset by POST /bench/stats.
 * Usage: bun bench/servers/bunqueue-peer.ts  (prints {"listen": url} once listening)
 * Env: BENCH_SECRET, BENCH_BUNQUEUE_DB (default: a file in the OS temp folder, removed at exit),
 * BENCH_BUNQUEUE_SYNC (NORMAL | FULL).
 */
import { Queue, Worker, shutdownManager } from "bunqueue/client";
// Not an exported path: the same module instance bunqueue/client uses (one file, one singleton).
import { peekSharedManager } from "../../node_modules/bunqueue/dist/client/manager.js";
import { Bot, webhookCallback } from "grammy";
import type { Update } from "grammy/types";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BENCH_BOT_INFO } from "./bot-info";
import { createLatencyStats } from "./latency-stats";

const SECRET = process.env.BENCH_SECRET ?? "bench_secret_0123456789";
const dir = process.env.BENCH_BUNQUEUE_DB ? null : mkdtempSync(join(tmpdir(), "tgwh-bunqueue-"));
const dataPath = process.env.BENCH_BUNQUEUE_DB ?? join(dir!, "bunqueue.db");
const sync = process.env.BENCH_BUNQUEUE_SYNC === "FULL" ? "FULL" : "NORMAL";

const queue = new Queue<{ update: Update; receivedAt: number }>("updates", { embedded: true, dataPath });
if (sync === "FULL") {
  const db = (peekSharedManager() as unknown as { storage: { db: { run(sql: string): void } } | null }).storage?.db;
  if (!db) throw new Error("bunqueue's SQLite connection not found: cannot set synchronous=FULL");
  db.run("PRAGMA synchronous = FULL");
}

// Ingress: grammY's webhookCallback; the only middleware stores the update durably.
const ingress = new Bot("123456789:BENCH_fake_token_not_real_000000000", { botInfo: BENCH_BOT_INFO, client: { apiRoot: "http://127.0.0.1:9" } });
const stats = createLatencyStats();
ingress.use(async (ctx) => {
  await queue.add("update", { update: ctx.update, receivedAt: Date.now() }, { durable: true, attempts: 8, removeOnComplete: false });
  stats.added++;
});
const handle = webhookCallback(ingress, "std/http", { secretToken: SECRET });

// Worker: the same trivial handler as the grammY peer and tgwh's bench (a message without a command is ignored).
const processor = new Bot("123456789:BENCH_fake_token_not_real_000000000", { botInfo: BENCH_BOT_INFO, client: { apiRoot: "http://127.0.0.1:9" } });
processor.on("message", () => {});
const worker = new Worker<{ update: Update; receivedAt: number }>(
  "updates",
  async (job) => {
    await processor.handleUpdate(job.data.update);
    stats.record(Date.now() - job.data.receivedAt);
  },
  { embedded: true, dataPath, concurrency: 32 },
);

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  fetch: (req) => {
    if (new URL(req.url).pathname === "/bench/stats") return stats.respond(req);
    return handle(req);
  },
});
console.log(JSON.stringify({ listen: `http://127.0.0.1:${server.port}`, sync }));
process.on("SIGTERM", async () => {
  server.stop(true);
  await worker.close().catch(() => {});
  await queue.close?.();
  shutdownManager();
  if (dir) rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
