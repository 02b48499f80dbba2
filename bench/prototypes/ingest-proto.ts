/**
 * Prototype ingest servers (issue 17, item 2), to learn what wins before touching src/: the
 * webhook's hot path (secret, JSON check, durable ack) over different storage designs, with no
 * log line, no metrics and no worker, so that each differs from the durable floor only by its
 * storage. PROTO_MODE:
 * - sqlite         today's design: group commit of INSERTs into tgwh's own jobs table (the real
 *                  migrations and insertJobs), then a WAL fdatasync off the event loop; ack after it
 * - sqlite-narrow  the same on the narrow schema (narrow-schema.ts: payload in its own table,
 *                  fewer indexes, no AUTOINCREMENT)
 * - journal        append-only ingest journal: each batch is appended (length + CRC32 framed) and
 *                  fdatasynced, the ack point; the batch is imported into the jobs table afterwards
 *                  (one transaction per ≥256 rows or 10 ms, synchronous=NORMAL, no fsync of its own:
 *                  the journal already holds the updates; a real design would fsync the WAL
 *                  before cutting the journal, and replay the journal at start)
 * - journal-narrow the journal with the narrow schema
 * - journal-thread the journal, imported by a Bun Worker with its own connection (import-thread.ts)
 * PROTO_WORKER=1 adds processing, as fast as it goes (no yielding to the ingress): up to 32 jobs
 * claimed at a time with the store's own claimJobs/finishJob, each handled by grammY's
 * handleUpdate with the benchmark's trivial handler on the main thread plus a hand-built "job
 * done" line when PROTO_LOG is set. In `sqlite` the claims and finishes join the ingest
 * transaction (as tgwh's writer does); in `journal-thread` the import thread claims and finishes,
 * posting claimed jobs to the main thread and receiving the finished ids back.
 * PROTO_LOG: none (default) | pino (tgwh's logger: the webhook line as src/telegram/webhook.ts
 * writes it, to a file) | fast (the same JSON line built by hand and written to the same kind of
 * stream), to price the per-request log line against the floor too.
 * Usage: PROTO_MODE=… bun bench/prototypes/ingest-proto.ts  (prints {"listen": url}); SIGTERM stops it
 * and prints how many rows reached the table.
 */
import { Database } from "bun:sqlite";
import { createHash, timingSafeEqual } from "node:crypto";
import { closeSync, fdatasync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pino from "pino";
import { createLogger, scrubSecrets } from "../../src/log";
import { openDb } from "../../src/store/sqlite/connection";
import { takeOverWalSync } from "../../src/store/sqlite/commit/wal-sync";
import { insertJobs } from "../../src/store/sqlite/insert";
import { prepareJobStatements } from "../../src/store/sqlite/job-statements";
import type { NewJob } from "../../src/store/types";
import { parseUpdate, updateDedupeKey } from "../../src/telegram/updates";
import { Bot } from "grammy";
import type { Update } from "grammy/types";
import { claimJobs } from "../../src/store/sqlite/claim";
import { finishJob } from "../../src/store/sqlite/finish";
import type { Job as JobRow } from "../../src/store/rows";
import { BENCH_BOT_INFO } from "../servers/bot-info";
import { narrowInserter, type InsertRow } from "./narrow-schema";
import { createChainOrder } from "../../src/store/sqlite/chains/access";

const SECRET = process.env.BENCH_SECRET ?? "bench_secret_0123456789";
const MODE = process.env.PROTO_MODE ?? "sqlite";
const dir = mkdtempSync(join(tmpdir(), "tgwh-proto-"));
const dbPath = join(dir, "tgwh.db");
const MAX_SYNCS = 2;

const secretDigest = createHash("sha256").update(SECRET).digest();
const secretOk = (h: string | null) => h !== null && timingSafeEqual(createHash("sha256").update(h).digest(), secretDigest);
const ok = () => new Response('{"ok":true}', { headers: { "content-type": "application/json" } });

const LOG = process.env.PROTO_LOG ?? "none";
const logDest = LOG === "none" ? null : pino.destination({ dest: join(dir, "log.ndjson"), sync: false });
const pinoLog = LOG === "pino" ? createLogger({ level: "info", secrets: [SECRET], destination: logDest! }) : null;
const secrets = [SECRET];
/** One webhook line per request: pino's, or the same JSON built by hand (field order as pino's). */
function logStored(reqId: string, started: number, updateId: number, type: string | null): void {
  const ms = Number((performance.now() - started).toFixed(2));
  if (pinoLog) {
    pinoLog.info({ reqId, outcome: "stored", status: 200, ms, update_id: updateId, kind: "telegram.update", type }, "webhook");
  } else if (logDest) {
    const line = `{"level":30,"time":"${new Date().toISOString()}","service":"tgwh","reqId":${JSON.stringify(reqId)},"outcome":"stored","status":200,"ms":${ms},"update_id":${updateId},"kind":"telegram.update","type":${JSON.stringify(type)},"msg":"webhook"}\n`;
    logDest.write(scrubSecrets(line, secrets));
  }
}

interface Item {
  row: InsertRow;
  done: () => void;
}

/** Opens the table the mode writes to; returns a batch inserter (inside the caller's transaction). */
function openStore(db: Database | null, narrow: boolean): { sqlite: Database; insert: (rows: InsertRow[]) => void } {
  if (narrow) {
    const sqlite = db ?? new Database(dbPath, { create: true });
    sqlite.run("PRAGMA journal_mode = WAL");
    sqlite.run("PRAGMA synchronous = NORMAL");
    const ins = narrowInserter(sqlite);
    return { sqlite, insert: (rows) => void ins(rows, Date.now()) };
  }
  const sqlite = openDb({ path: dbPath, synchronous: "NORMAL", busyTimeoutMs: 5000, migrate: true }).sqlite;
  const stmts = prepareJobStatements(sqlite);
  const chains = createChainOrder(sqlite);
  return {
    sqlite,
    insert: (rows) => {
      const now = Date.now();
      const jobs: NewJob[] = rows.map((r) => ({ kind: "telegram.update", dedupeKey: r.dedupeKey, orderKey: r.orderKey, seq: r.seq, payload: r.payload, maxAttempts: 8, runAt: now }));
      insertJobs(stmts, chains, jobs, now);
    },
  };
}

// ---- processing (PROTO_WORKER=1) ----
const WORKER = process.env.PROTO_WORKER === "1";
const SLOTS = 32;
const bot = new Bot("123456789:BENCH_fake_token_not_real_000000000", { botInfo: BENCH_BOT_INFO, client: { apiRoot: "http://127.0.0.1:9" } });
bot.on("message", () => {});
let busy = 0;
let processed = 0;
/** Runs one claimed job's handler; `done` records its finish with whoever holds the store. */
async function handleJob(id: number, payload: string, done: (id: number) => void): Promise<void> {
  busy++;
  const started = performance.now();
  await bot.handleUpdate(JSON.parse(payload) as Update);
  busy--;
  processed++;
  if (logDest) {
    const seconds = Number(((performance.now() - started) / 1000).toFixed(4));
    logDest.write(`{"level":30,"time":"${new Date().toISOString()}","service":"tgwh","component":"worker","jobId":${id},"kind":"telegram.update","outcome":"succeeded","seconds":${seconds},"msg":"job done"}\n`);
  }
  done(id);
}

let queued: Item[] = [];
let syncing = 0;
let scheduled = false;
let flush: () => void;

if (MODE === "sqlite" || MODE === "sqlite-narrow") {
  const { sqlite, insert } = openStore(null, MODE === "sqlite-narrow");
  const wal = takeOverWalSync(sqlite, dbPath);
  if (!wal) throw new Error("no WAL sync");
  const stmts = prepareJobStatements(sqlite);
  const chains = createChainOrder(sqlite);
  let finished: JobRow[] = [];
  const running = new Map<number, JobRow>();
  let claimNeeded = WORKER;
  const kick = () => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  flush = () => {
    scheduled = false;
    if (syncing >= MAX_SYNCS || (queued.length === 0 && finished.length === 0 && !claimNeeded)) return;
    const batch = queued;
    queued = [];
    const ending = finished;
    finished = [];
    let claimed: JobRow[] = [];
    sqlite.run("BEGIN IMMEDIATE");
    insert(batch.map((b) => b.row));
    if (WORKER && MODE === "sqlite") {
      const now = Date.now();
      for (const j of ending) finishJob(stmts, chains, { ...j, owner: "proto" }, { type: "done", error: null }, now);
      const free = SLOTS - busy - running.size;
      claimed = free > 0 ? claimJobs(stmts, { owner: "proto", leaseMs: 30_000, limit: free, now: now + 1 }) : [];
      claimNeeded = claimed.length === free && free > 0;
    }
    sqlite.run("COMMIT");
    for (const j of claimed) {
      running.set(j.id, j);
      void handleJob(j.id, j.payload, (id) => {
        finished.push(running.get(id)!);
        running.delete(id);
        claimNeeded = true;
        kick();
      });
    }
    syncing++;
    wal.sync().then(() => {
      syncing--;
      for (const b of batch) b.done();
      flush();
    });
  };
} else {
  const journalFd = openSync(join(dir, "ingest.journal"), "a");
  let importQueue: InsertRow[] = [];
  let importTimer: ReturnType<typeof setTimeout> | null = null;
  let importRows: (rows: InsertRow[]) => void;
  if (MODE === "journal-thread") {
    const worker = new Worker(resolve(import.meta.dir, "import-thread.ts"), { env: { PROTO_DB: dbPath, PROTO_WORKER: WORKER ? "1" : "" } } as never);
    let finishedIds: number[] = [];
    let finishPosted = false;
    worker.onmessage = (e: MessageEvent<{ id: number; payload: string }[]>) => {
      for (const j of e.data) {
        void handleJob(j.id, j.payload, (id) => {
          finishedIds.push(id);
          if (!finishPosted) {
            finishPosted = true;
            setImmediate(() => {
              finishPosted = false;
              worker.postMessage({ finish: finishedIds });
              finishedIds = [];
            });
          }
        });
      }
    };
    importRows = (rows) => worker.postMessage({ rows });
  } else {
    const { sqlite, insert } = openStore(null, MODE === "journal-narrow");
    importRows = (rows) => {
      sqlite.run("BEGIN IMMEDIATE");
      insert(rows);
      sqlite.run("COMMIT");
    };
  }
  const importNow = () => {
    if (importTimer) clearTimeout(importTimer);
    importTimer = null;
    const rows = importQueue;
    importQueue = [];
    if (rows.length) importRows(rows);
  };
  flush = () => {
    scheduled = false;
    if (syncing >= MAX_SYNCS || queued.length === 0) return;
    const batch = queued;
    queued = [];
    const parts: string[] = [];
    for (const b of batch) parts.push(`${Buffer.byteLength(b.row.payload)} ${Bun.hash.crc32(b.row.payload)}\n${b.row.payload}\n`);
    writeSync(journalFd, parts.join(""));
    syncing++;
    fdatasync(journalFd, (err) => {
      syncing--;
      if (err) throw err;
      for (const b of batch) b.done();
      for (const b of batch) importQueue.push(b.row);
      if (importQueue.length >= 256) importNow();
      else importTimer ??= setTimeout(importNow, 10);
      flush();
    });
  };
  process.on("exit", () => closeSync(journalFd));
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  routes: {
    "/telegram/webhook": {
      async POST(req) {
        const started = performance.now();
        if (!secretOk(req.headers.get("x-telegram-bot-api-secret-token"))) return new Response("unauthorized", { status: 401 });
        const text = await req.text();
        const p = parseUpdate(text);
        if (!p.ok) return new Response(p.message, { status: 400 });
        return new Promise<Response>((res) => {
          const reqId = req.headers.get("x-request-id")?.slice(0, 100) ?? crypto.randomUUID();
          queued.push({
            row: { dedupeKey: updateDedupeKey(p.updateId), orderKey: p.orderKey, seq: p.updateId, payload: text },
            done: () => {
              logStored(reqId, started, p.updateId, p.type);
              res(ok());
            },
          });
          if (!scheduled) {
            scheduled = true;
            setImmediate(flush);
          }
        });
      },
    },
  },
  fetch: (req) => (new URL(req.url).pathname === "/proto/stats" ? Response.json({ processed }) : new Response("not found", { status: 404 })),
});
console.log(JSON.stringify({ listen: `http://127.0.0.1:${server.port}`, mode: MODE }));
process.on("SIGTERM", () => {
  server.stop(true);
  setTimeout(() => {
    try {
      const db = new Database(dbPath, { readonly: true });
      console.log(JSON.stringify({ rows: (db.query("SELECT count(*) AS n FROM jobs").get() as { n: number }).n, processed }));
      db.close();
    } catch {}
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }, 200);
});
