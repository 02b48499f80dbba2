/**
 * Instruction counts per update, stage by stage (issue 17, item 1), with the service's own code:
 * the webhook handler, pino, prom-client, the job store's statements on a real file. Each stage
 * runs N times after a warm-up; under valgrind's callgrind the count is deterministic, so the
 * cost of one unit is (instructions at 2N − instructions at N) ÷ N, free of the start-up and of
 * whatever the rest of the machine is doing. Without valgrind it prints wall-clock ns per unit
 * (noisy on a shared machine; read them as ratios inside one run).
 * Caveat, measured: even with JSC's concurrent JIT and GC off, two identical runs of a SQL stage
 * differed by up to 6 % in total (±20 % in the per-unit figure): JSC's tier-up and GC decisions
 * are partly driven by time. The JS-light stages (secret, parse, metrics) repeat well.
 *
 *   bun bench/cost/stages.ts STAGE N          # one stage, N units, wall clock
 *   bun bench/cost/stages.ts --callgrind [N] [stage,stage]  # every stage (or those) under callgrind, the table
 *
 * Stages (one unit = one update unless said otherwise):
 *   request      build a Request like wrk's and read its body (the harness's own cost, subtracted)
 *   handler      createWebhookHandler end to end with a stub enqueue (no SQL), pino to /dev/null, real metrics
 *   handler-nolog the same with the log level at warn (so the webhook line is skipped)
 *   secret       the webhook's secret check (createSecretCheck, built once: the header as a fixed-size block, timingSafeEqual against the secret's)
 *   parse        parseUpdate (JSON.parse + update_id, type and order key)
 *   log          one webhook log line through tgwh's pino logger (to /dev/null)
 *   log-hand     the same line built by hand (createLineWriter, as the webhook writes its 200 lines)
 *   metrics      the webhook's counter inc (label object) + histogram observe
 *   metrics-child the same with the counter's child resolved once (childrenBy, as the webhook does)
 *   insert       insertJobs in batches of 10 inside BEGIN … ROLLBACK (statements only)
 *   insert-commit the same with COMMIT (the difference is the commit's share: WAL frames, checksums)
 *   claim        claimJobs of 4 (the burst size) per transaction, per claimed job, BEGIN … COMMIT
 *   finish       finishJob (done + hand the chain on) for 32 jobs per commit, per job
 */
import { Database } from "bun:sqlite";
import { openSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { createLineWriter, createLogger, jsonNumber, jsonString } from "../../src/log";
import { childrenBy, createMetrics } from "../../src/metrics";
import { claimJobs } from "../../src/store/sqlite/claim";
import { insertJobs } from "../../src/store/sqlite/insert";
import { finishJob } from "../../src/store/sqlite/finish";
import { prepareJobStatements } from "../../src/store/sqlite/job-statements";
import type { Job as JobRow } from "../../src/store/rows";
import { openDb } from "../../src/store/sqlite/connection";
import { createSecretCheck } from "../../src/telegram/secret";
import { parseUpdate } from "../../src/telegram/updates";
import { createWebhookHandler } from "../../src/telegram/webhook";
import { removeDir, tempDir } from "../../test/support/tgwh";
import { benchUpdate, updateJob } from "../lib/fill";
import { table } from "../lib/stats";
import { createChainOrder } from "../../src/store/sqlite/chains/access";

const SECRET = "bench_secret_0123456789";
const URL_ = "http://127.0.0.1:8080/telegram/webhook";
const devNull = () => pino.destination({ dest: openSync("/dev/null", "w"), sync: true });

const makeRequest = (id: number) =>
  new Request(URL_, {
    method: "POST",
    headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET, "content-length": "400" },
    body: benchUpdate(id),
  });

type Stage = (n: number) => Promise<void> | void;

function withDb(fn: (db: Database, dir: string) => void | Promise<void>) {
  return async () => {
    const dir = tempDir("tgwh-stages-");
    const db = openDb({ path: join(dir, "t.db"), synchronous: "NORMAL", busyTimeoutMs: 5000, migrate: true });
    db.sqlite.run("PRAGMA wal_autocheckpoint = 0");
    try {
      await fn(db.sqlite, dir);
    } finally {
      db.close();
      removeDir(dir);
    }
  };
}

let uid = 1_000_000;
const handlerStage = (level: string): Stage => async (n) => {
  const h = createWebhookHandler({
    acceptedSecrets: [SECRET],
    enqueue: async (jobs) => jobs.map(() => ({ id: 1, inserted: true })),
    onStored: () => {},
    log: createLogger({ level, secrets: [SECRET, "123456789:TEST_fake_token_for_tests_only_0000000"], destination: devNull() }),
    metrics: createMetrics({ version: "x", commit: "x" }),
  });
  for (let i = 0; i < n; i++) await h(makeRequest(uid++));
};

/** Inserts in batches of 10 per transaction, ended by ROLLBACK (statements alone) or COMMIT (plus the commit's share). */
const insertStage = (end: "ROLLBACK" | "COMMIT"): Stage => (n) =>
  withDb((db) => {
    const stmts = prepareJobStatements(db);
    const chains = createChainOrder(db);
    for (let i = 0; i < n; i += 10) {
      db.run("BEGIN IMMEDIATE");
      insertJobs(stmts, chains, Array.from({ length: 10 }, () => updateJob(uid++, 1)), 1);
      db.run(end);
    }
  })();

const STAGES: Record<string, Stage> = {
  request: async (n) => {
    for (let i = 0; i < n; i++) await makeRequest(uid++).arrayBuffer();
  },
  handler: handlerStage("info"),
  "handler-nolog": handlerStage("warn"),
  secret: (n) => {
    const secretMatches = createSecretCheck([SECRET]);
    for (let i = 0; i < n; i++) secretMatches(SECRET);
  },
  parse: (n) => {
    const texts = Array.from({ length: 64 }, (_, i) => benchUpdate(uid + i));
    for (let i = 0; i < n; i++) parseUpdate(texts[i & 63]!);
  },
  log: (n) => {
    const log = createLogger({ level: "info", secrets: [SECRET], destination: devNull() });
    for (let i = 0; i < n; i++) {
      log.info({ reqId: "0b6e2a52-4f8e-4a4c-9a61-6a3f0c1b2d3e", outcome: "stored", status: 200, ms: 2.31, update_id: uid++, jobId: i, kind: "telegram.update", type: "message" }, "webhook");
    }
  },
  metrics: (n) => {
    const m = createMetrics({ version: "x", commit: "x" });
    for (let i = 0; i < n; i++) {
      m.webhookRequests.inc({ outcome: "stored" });
      m.webhookAckSeconds.observe(0.0023);
    }
  },
  "metrics-child": (n) => {
    const m = createMetrics({ version: "x", commit: "x" });
    const requests = childrenBy(m.webhookRequests, "outcome");
    for (let i = 0; i < n; i++) {
      requests("stored").inc();
      m.webhookAckSeconds.observe(0.0023);
    }
  },
  "log-hand": (n) => {
    const line = createLineWriter(createLogger({ level: "info", secrets: [SECRET], destination: devNull() }), "info", "webhook");
    for (let i = 0; i < n; i++) {
      line(`,"reqId":${jsonString("0b6e2a52-4f8e-4a4c-9a61-6a3f0c1b2d3e")},"outcome":"stored","status":200,"ms":${jsonNumber(2.31)},"update_id":${jsonNumber(uid++)},"jobId":${jsonNumber(i)},"kind":"telegram.update","type":"message"`);
    }
  },
  insert: insertStage("ROLLBACK"),
  "insert-commit": insertStage("COMMIT"),
  claim: (n) =>
    withDb((db) => {
      const stmts = prepareJobStatements(db);
      const chains = createChainOrder(db);
      db.run("BEGIN");
      // n distinct chats, so every job is the head of its chain and claimable.
      for (let i = 0; i < n; i += 100) insertJobs(stmts, chains, Array.from({ length: 100 }, (_, k) => updateJob(uid++, 1, 1_000_000 + i + k)), 1);
      db.run("COMMIT");
      for (let i = 0; i < n; i += 4) {
        db.run("BEGIN IMMEDIATE");
        claimJobs(stmts, { owner: "o", leaseMs: 30_000, limit: 4, now: 2 });
        db.run("COMMIT");
      }
    })(),
  finish: (n) =>
    withDb((db) => {
      const stmts = prepareJobStatements(db);
      const chains = createChainOrder(db);
      db.run("BEGIN");
      for (let i = 0; i < n; i += 100) insertJobs(stmts, chains, Array.from({ length: 100 }, () => updateJob(uid++, 1)), 1);
      const claimed: JobRow[] = [];
      for (let got = 1; got > 0; ) {
        const c = claimJobs(stmts, { owner: "o", leaseMs: 30_000, limit: n, now: 2 });
        got = c.length;
        claimed.push(...c);
        // finish the heads here (not measured) until n are claimed
        if (claimed.length >= n) break;
        for (const j of c) finishJob(stmts, chains, { ...j, owner: "o" }, { type: "done", error: null }, 3);
      }
      db.run("COMMIT");
      const mine = claimed.slice(-n);
      const t0 = mine.length;
      for (let i = 0; i < t0; i += 32) {
        db.run("BEGIN IMMEDIATE");
        for (const j of mine.slice(i, i + 32)) finishJob(stmts, chains, { ...j, owner: "o" }, { type: "done", error: null }, 3);
        db.run("COMMIT");
      }
    })(),
};

async function runOne(stage: string, n: number) {
  const fn = STAGES[stage];
  if (!fn) throw new Error(`unknown stage ${stage}; one of ${Object.keys(STAGES).join(", ")}`);
  await fn(Math.min(n, 500)); // warm-up: let the JIT tier up as it would in the service
  const t = performance.now();
  await fn(n);
  return ((performance.now() - t) * 1e6) / n;
}

async function callgrind(stage: string, n: number): Promise<number> {
  const out = tempDir("tgwh-cg-");
  try {
    const p = Bun.spawn(
      ["valgrind", "--tool=callgrind", "--trace-children=yes", `--callgrind-out-file=${out}/cg.%p`, process.execPath, import.meta.path, stage, String(n)],
      // JSC compiles and collects on helper threads at moments that depend on timing; callgrind
      // counts those threads too. Doing both on the main thread makes the counts repeatable.
      { stdout: "ignore", stderr: "pipe", env: { ...process.env, BUN_JSC_useConcurrentJIT: "false", BUN_JSC_useConcurrentGC: "false" } },
    );
    const err = await new Response(p.stderr).text();
    await p.exited;
    const counts = [...err.matchAll(/Collected : (\d+)/g)].map((m) => Number(m[1]));
    if (counts.length === 0) throw new Error(`callgrind gave no count for ${stage}:\n${err.slice(-2000)}`);
    return counts.reduce((a, b) => a + b, 0);
  } finally {
    removeDir(out);
  }
}

if (process.argv[2] === "--callgrind") {
  if (!Bun.which("valgrind")) throw new Error("needs valgrind (apt-get install -y valgrind)");
  const n = Number(process.argv[3] ?? 2000);
  const only = process.argv[4]?.split(",");
  const rows: (string | number)[][] = [];
  for (const stage of Object.keys(STAGES).filter((s) => !only || only.includes(s))) {
    const a = await callgrind(stage, n);
    const b = await callgrind(stage, 2 * n);
    const per = (b - a) / n;
    rows.push([stage, Math.round(per).toLocaleString("en-US")]);
    console.error(`${stage}: ${Math.round(per)} instructions per unit`);
  }
  console.log(table(["stage", `instructions per unit ((2N − N) ÷ N, N = ${n})`], rows));
} else if (process.argv[2]) {
  const n = Number(process.argv[3] ?? 10_000);
  console.log(`${process.argv[2]}: ${(await runOne(process.argv[2], n)).toFixed(0)} ns per unit (wall clock)`);
} else {
  for (const s of Object.keys(STAGES)) console.log(`${s.padEnd(14)} ${(await runOne(s, 5000)).toFixed(0)} ns per unit (wall clock)`);
}
