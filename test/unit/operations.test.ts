/**
 * src/operations/: each operation audits itself, once, under its own AUDIT_ACTION name, and says
 * no with an OperationError whose kind decides the HTTP status (http.ts) and the exit code
 * (cli/command.ts). On a real SQLite store; the Bot API is not needed here (webhook operations:
 * test/routes/admin.test.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { statSync } from "node:fs";
import { join } from "node:path";
import { EXIT, EXIT_OF_FAILURE } from "../../src/cli/command";
import { STATUS_OF_FAILURE } from "../../src/http";
import { createOperations, type Operations } from "../../src/operations";
import { AUDIT_ACTION } from "../../src/operations/actions";
import { OperationError } from "../../src/operations/errors";
import { openStore } from "../../src/store/open";
import type { Store } from "../../src/store/types";
import { removeDir, tempDir } from "../support/tgwh";

let dir: string;
let store: Store;
let ops: Operations;
let woken = 0;
const telegram = { botToken: null, webhookSecret: null, publicUrl: null, telegramApi: "http://127.0.0.1:9", scrub: (s: string) => s };

beforeAll(async () => {
  dir = tempDir("tgwh-ops-");
  store = await openStore({ dbPath: join(dir, "tgwh.db"), synchronous: "FULL", busyTimeoutMs: 5000 }, { migrate: true });
  ops = createOperations({ store, telegram, log: { error() {} }, scrub: (s) => s, clock: Date.now, wakeWorker: () => void woken++ });
});
afterAll(async () => {
  await store?.close();
  removeDir(dir);
});

const lastAudit = async () => {
  const [row] = await store.audit.page(1, null);
  return row ? { actor: row.actor, action: row.action, target: row.target, result: row.result } : null;
};
const failureOf = async (p: Promise<unknown>) => {
  const err = await p.then(() => null, (e: unknown) => e);
  if (!(err instanceof OperationError)) throw new Error(`expected an OperationError, got ${String(err)}`);
  return { failure: err.failure, message: err.message };
};

describe("each operation audits itself once", () => {
  test("queueNotification: the job, the worker woken, one row (without the text)", async () => {
    const before = woken;
    const res = await ops.queueNotification("cli:alice", { chatId: 5, text: "secret-ish text" });
    expect(res.duplicate).toBe(false);
    expect(woken).toBe(before + 1);
    expect(await lastAudit()).toEqual({ actor: "cli:alice", action: AUDIT_ACTION.queueNotification, target: "5", result: "ok" });
    expect((await store.audit.page(1, null))[0]!.detail).not.toContain("secret-ish");
  });

  test("createAccount then revokeAccount (twice: idempotent, said so)", async () => {
    const { token } = await ops.createAccount("cli:alice", { name: "ops-bob", role: "viewer" });
    expect(await ops.accounts.authenticate(token)).not.toBeNull();
    expect(await lastAudit()).toEqual({ actor: "cli:alice", action: AUDIT_ACTION.createAccount, target: "ops-bob", result: "ok" });
    expect((await ops.revokeAccount("cli:alice", "ops-bob")).alreadyRevoked).toBe(false);
    expect(await ops.accounts.authenticate(token)).toBeNull();
    expect((await ops.revokeAccount("cli:alice", "ops-bob")).alreadyRevoked).toBe(true);
    expect(await lastAudit()).toEqual({ actor: "cli:alice", action: AUDIT_ACTION.revokeAccount, target: "ops-bob", result: "ok" });
  });

  test("takeBackup: the copy (0600 under any umask), then its row (so the copy does not hold it)", async () => {
    const target = join(dir, "copy.db");
    const umask = process.umask(0o022);
    let res;
    try {
      res = await ops.takeBackup("cli:alice", target);
    } finally {
      process.umask(umask);
    }
    expect(res).toMatchObject({ file: target, check: "ok" });
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(await lastAudit()).toEqual({ actor: "cli:alice", action: AUDIT_ACTION.takeBackup, target, result: "ok" });
    const copy = new Database(target, { readonly: true });
    try {
      expect(copy.query("SELECT count(*) AS n FROM audit_log WHERE action = ?").get(AUDIT_ACTION.takeBackup)).toEqual({ n: 0 });
      expect(copy.query("SELECT count(*) AS n FROM audit_log WHERE action = ?").get(AUDIT_ACTION.createAccount)).toEqual({ n: 1 });
    } finally {
      copy.close();
    }
  });
});

describe("failures: one kind each, audited as errors", () => {
  const ROWS: { name: string; run: () => Promise<unknown>; failure: OperationError["failure"]; message: string }[] = [
    { name: "retry an unknown job", run: () => ops.retryJob("cli:alice", 987654), failure: "not_found", message: "no job with id 987654" },
    { name: "an account name with a space", run: () => ops.createAccount("cli:alice", { name: "bad name", role: "viewer" }), failure: "invalid", message: "name must be 1-64 characters" },
    { name: "a revoked account's name (names are never reused)", run: () => ops.createAccount("cli:alice", { name: "ops-bob", role: "admin" }), failure: "conflict", message: "names are never reused" },
    { name: "revoke nobody", run: () => ops.revokeAccount("cli:alice", "nobody"), failure: "not_found", message: "no service account named 'nobody'" },
    { name: "a backup over an existing file", run: () => ops.takeBackup("cli:alice", join(dir, "copy.db")), failure: "invalid", message: "exists" },
  ];
  for (const row of ROWS) {
    test(row.name, async () => {
      const got = await failureOf(row.run());
      expect(got.failure).toBe(row.failure);
      expect(got.message).toContain(row.message);
      expect((await lastAudit())?.result).toBe(`error: ${got.message}`);
    });
  }

  test("a job that is not dead: conflict, and nobody is woken", async () => {
    const { id } = (await store.jobs.insert([{ kind: "notify.send", dedupeKey: "notify:ops-pending", orderKey: null, seq: 0, payload: "{}", maxAttempts: 1, runAt: Date.now() + 60_000 }]))[0]!;
    const before = woken;
    expect(await failureOf(ops.retryJob("cli:alice", id))).toEqual({ failure: "conflict", message: `job ${id} is pending; only dead jobs can be retried` });
    expect(woken).toBe(before);
  });

  test("a webhook operation without a bot token is a configuration error (not an OperationError)", async () => {
    await expect(ops.setWebhook("cli:alice")).rejects.toThrow("TGWH_PUBLIC_URL");
    expect((await lastAudit())?.action).toBe(AUDIT_ACTION.setWebhook);
  });

  test("an audit write that fails fails the call: the caller never sees ok for an unaudited change", async () => {
    const broken = createOperations({ store: { ...store, audit: { ...store.audit, record: async () => Promise.reject(new Error("disk full")) } }, telegram, log: { error() {} }, scrub: (s) => s, clock: Date.now });
    await expect(broken.queueNotification("cli:alice", { chatId: 6, text: "x" })).rejects.toThrow("disk full");
  });
});

describe("one mapping per side", () => {
  test("every failure kind has an HTTP status and an exit code", () => {
    expect(STATUS_OF_FAILURE).toEqual({ invalid: 400, not_found: 404, conflict: 409, upstream: 502 });
    expect(EXIT_OF_FAILURE).toEqual({ invalid: EXIT.usage, not_found: EXIT.failure, conflict: EXIT.failure, upstream: EXIT.failure });
  });
  test("every audit action name is distinct", () => {
    const names = Object.values(AUDIT_ACTION);
    expect(new Set(names).size).toBe(names.length);
  });
});
