import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createAuditLog } from "../../src/db/audit";
import { openDb, type Db } from "../../src/db/client";
import { createServiceAccounts, hashToken, LAST_USED_GRANULARITY_MS } from "../../src/db/service-accounts";
import { createWriter, type Writer } from "../../src/db/writer";
import { createJobAdmin, type JobAdmin } from "../../src/queue/admin-queries";
import { notificationJob } from "../../src/queue/notify";
import { createJobStore, type JobStore } from "../../src/queue/store";
import type { NewJob } from "../../src/queue/types";
import { removeDir, tempDir } from "../support/tgwh";

let dir: string;
let db: Db;
let writer: Writer;
let store: JobStore;
let admin: JobAdmin;
let now = 1_000_000;
const clock = () => now;

const job = (seq: number, orderKey: string | null, extra: Partial<NewJob> = {}): NewJob => ({
  kind: "telegram.update",
  dedupeKey: `update:${seq}`,
  orderKey,
  seq,
  payload: JSON.stringify({ update_id: seq }),
  maxAttempts: 1,
  runAt: now,
  ...extra,
});

/** Claims and fails one job for good (maxAttempts 1): it ends dead, as the worker leaves it. */
async function killJob(): Promise<number> {
  const { jobs } = await store.claim({ owner: "w", leaseMs: 10_000, limit: 1, now });
  const j = jobs[0]!;
  await store.finish({ id: j.id, owner: "w", orderKey: j.orderKey, attempts: j.attempts, errors: j.errors }, { type: "dead", error: "boom" });
  return j.id;
}

beforeEach(() => {
  dir = tempDir();
  db = openDb({ path: join(dir, "a.db"), synchronous: "FULL", busyTimeoutMs: 1000, migrate: true });
  writer = createWriter(db.sqlite);
  store = createJobStore(db.sqlite, writer, clock);
  admin = createJobAdmin(db.sqlite, writer, clock);
  now = 1_000_000;
});
afterEach(() => {
  db.close();
  removeDir(dir);
});

describe("retrying dead jobs", () => {
  test("a dead job without a busy chain is pending, ready, with attempts reset", async () => {
    await store.enqueue([job(1, "chat:1")]);
    const id = await killJob();
    now += 5000;
    const res = await admin.retry(id);
    expect(res.outcome).toBe("retried");
    if (res.outcome !== "retried") return;
    expect(res.job).toMatchObject({ state: "pending", attempts: 0, ready: 1, runAt: now, finishedAt: null, lastError: "boom" });
    const { jobs } = await store.claim({ owner: "w", leaseMs: 10_000, limit: 5, now });
    expect(jobs.map((j) => j.id)).toEqual([id]);
  });

  test("a dead job whose chain is busy waits for the chain's turn, then runs before later jobs", async () => {
    await store.enqueue([job(1, "chat:1")]);
    const dead = await killJob();
    await store.enqueue([job(2, "chat:1"), job(3, "chat:1")]);
    const { jobs: running } = await store.claim({ owner: "w", leaseMs: 10_000, limit: 5, now });
    expect(running.map((j) => j.seq)).toEqual([2]);
    const res = await admin.retry(dead);
    expect(res.outcome === "retried" && res.job.ready).toBe(0);
    // Nothing else of the chain may run while seq 2 does.
    expect((await store.claim({ owner: "w", leaseMs: 10_000, limit: 5, now })).jobs).toEqual([]);
    const r = running[0]!;
    await store.finish({ id: r.id, owner: "w", orderKey: r.orderKey, attempts: r.attempts, errors: r.errors }, { type: "done", error: null });
    // The revived seq 1 sorts first in the chain, so it gets the turn before seq 3.
    expect((await store.claim({ owner: "w", leaseMs: 10_000, limit: 5, now })).jobs.map((j) => j.seq)).toEqual([1]);
  });

  test("only dead jobs are retried; unknown ids say so", async () => {
    await store.enqueue([job(1, null, { maxAttempts: 3 })]);
    const id = store.byDedupeKey("update:1")!.id;
    expect(await admin.retry(id)).toEqual({ outcome: "not_dead", state: "pending" });
    expect(await admin.retry(999)).toEqual({ outcome: "not_found" });
  });

  test("retryDead is bounded and reports what is left", async () => {
    for (let i = 1; i <= 3; i++) {
      await store.enqueue([job(i, null)]);
      await killJob();
    }
    expect(await admin.retryDead(2)).toMatchObject({ remaining: 1 });
    expect((await admin.retryDead(10)).remaining).toBe(0);
    expect(admin.list({ state: "pending", limit: 10 }).map((j) => j.seq)).toEqual([3, 2, 1]);
  });

  test("list pages newest first by cursor, filtered by state and kind", async () => {
    await store.enqueue([1, 2, 3, 4, 5].map((i) => job(i, null, { maxAttempts: 3 })));
    await store.enqueue([notificationJob({ chatId: 1, text: "x" }, now)]);
    const p1 = admin.list({ kind: "telegram.update", limit: 2 });
    const p2 = admin.list({ kind: "telegram.update", limit: 2, cursor: p1[1]!.id });
    const p3 = admin.list({ kind: "telegram.update", limit: 2, cursor: p2[1]!.id });
    expect([...p1, ...p2, ...p3].map((j) => j.seq)).toEqual([5, 4, 3, 2, 1]);
    expect(admin.list({ state: "dead", limit: 10 })).toEqual([]);
    expect(admin.list({ kind: "notify.send", limit: 10 })).toHaveLength(1);
  });
});

describe("notificationJob", () => {
  test("kind, chat order key, dedupe key and payload", () => {
    const j = notificationJob({ chatId: 42, text: "hi", parseMode: "HTML", dedupeKey: "k1" }, 5);
    expect(j).toMatchObject({ kind: "notify.send", dedupeKey: "notify:k1", orderKey: "send:chat:42", runAt: 5, maxAttempts: 10 });
    expect(JSON.parse(j.payload)).toEqual({ chatId: 42, text: "hi", parseMode: "HTML" });
    const a = notificationJob({ chatId: 42, text: "hi" }, 5);
    const b = notificationJob({ chatId: 42, text: "hi" }, 5);
    expect(a.dedupeKey).not.toBe(b.dedupeKey);
    expect(JSON.parse(a.payload)).toEqual({ chatId: 42, text: "hi" });
  });
});

describe("service accounts", () => {
  test("only the hash is stored; revoked and unknown tokens do not authenticate", async () => {
    const accounts = createServiceAccounts(db.sqlite, writer, clock);
    const { account, token } = await accounts.create("ops", "operator");
    expect(token).toMatch(/^tgwh_[A-Za-z0-9_-]{43}$/);
    const row = db.sqlite.query("SELECT * FROM service_accounts").get() as Record<string, unknown>;
    expect(row.token_hash).toBe(hashToken(token));
    expect(JSON.stringify(row)).not.toContain(token);
    expect(accounts.authenticate(token)?.id).toBe(account.id);
    expect(accounts.authenticate(`${token}x`)).toBeNull();
    expect(accounts.authenticate("not-a-tgwh-token")).toBeNull();
    await accounts.revoke("ops");
    expect(accounts.authenticate(token)).toBeNull();
    await expect(accounts.revoke("nobody")).rejects.toThrow("no service account named 'nobody'");
    await expect(accounts.create("ops", "admin")).rejects.toThrow("is the name of an account revoked at");
    await expect(accounts.create("no spaces", "admin")).rejects.toThrow("name must be");
  });

  test("last_used_at is written at most once per granularity window", async () => {
    const accounts = createServiceAccounts(db.sqlite, writer, clock);
    const { token } = await accounts.create("busy", "viewer");
    let writes = 0;
    const counting = { ...writer, run: <T>(op: () => T) => (writes++, writer.run(op)) };
    const counted = createServiceAccounts(db.sqlite, counting as Writer, clock);
    for (let i = 0; i < 50; i++) counted.authenticate(token);
    await writer.run(() => 0);
    expect(writes).toBe(1);
    expect(accounts.byName("busy")!.lastUsedAt).toBe(now);
    now += LAST_USED_GRANULARITY_MS;
    counted.authenticate(token);
    await writer.run(() => 0);
    expect(writes).toBe(2);
    expect(accounts.byName("busy")!.lastUsedAt).toBe(now);
  });
});

describe("audit log", () => {
  test("pages newest first", async () => {
    const audit = createAuditLog(db.sqlite, writer, clock);
    for (let i = 0; i < 5; i++) await audit.record({ actor: "a", action: `x${i}`, target: null, result: "ok", detail: null });
    const p1 = audit.list(2, null);
    const p2 = audit.list(2, p1[1]!.id);
    expect([...p1, ...p2].map((r) => r.action)).toEqual(["x4", "x3", "x2", "x1"]);
  });
});
