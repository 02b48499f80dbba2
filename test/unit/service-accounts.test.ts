import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { OperationError } from "../../src/operations/errors";
import { createServiceAccounts, hashToken, LAST_USED_GRANULARITY_MS } from "../../src/operations/service-accounts";
import { notificationJob } from "../../src/telegram/notifications";
import { createSqliteStore, type SqliteStore } from "../../src/store/sqlite";
import type { AccountStore } from "../../src/store/types";
import { removeDir, tempDir } from "../support/tgwh";

/** Tokens, their hashing, the name rule and the last-used throttle, over a real store. */
let dir: string;
let store: SqliteStore;
let now = 1_000_000;
const clock = () => now;

beforeEach(() => {
  dir = tempDir();
  store = createSqliteStore({ path: join(dir, "a.db"), synchronous: "FULL", busyTimeoutMs: 1000, migrate: true, clock });
  now = 1_000_000;
});
afterEach(async () => {
  await store.close();
  removeDir(dir);
});

describe("service accounts", () => {
  test("only the hash is stored; revoked and unknown tokens do not authenticate", async () => {
    const accounts = createServiceAccounts(store.accounts, clock);
    const { account, token } = await accounts.create("ops", "operator");
    expect(token).toMatch(/^tgwh_[A-Za-z0-9_-]{43}$/);
    const row = store.internals.db.sqlite.query("SELECT * FROM service_accounts").get() as Record<string, unknown>;
    expect(row.token_hash).toBe(hashToken(token));
    expect(JSON.stringify(row)).not.toContain(token);
    expect((await accounts.authenticate(token))?.id).toBe(account.id);
    expect(await accounts.authenticate(`${token}x`)).toBeNull();
    expect(await accounts.authenticate("not-a-tgwh-token")).toBeNull();
    await accounts.revoke("ops");
    expect(await accounts.authenticate(token)).toBeNull();
    await expect(accounts.revoke("nobody")).rejects.toThrow("no service account named 'nobody'");
    await expect(accounts.create("ops", "admin")).rejects.toThrow("is the name of an account revoked at");
    await expect(accounts.create("no spaces", "admin")).rejects.toThrow("name must be");
  });

  test("a taken name: a live account's says 'already exists', a revoked one's says when and suggests another", async () => {
    const accounts = createServiceAccounts(store.accounts, clock);
    await accounts.create("ci", "operator");
    await expect(accounts.create("ci", "admin")).rejects.toThrow("a service account named 'ci' already exists");
    now = Date.UTC(2026, 10, 29, 15, 4, 5);
    await accounts.revoke("ci");
    const err = await accounts.create("ci", "operator").then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toBe("'ci' is the name of an account revoked at 2026-11-29T15:04:05.000Z; names are never reused (the audit log refers to them): pick another, e.g. ci-2");
    expect(err).toBeInstanceOf(OperationError);
    expect((err as OperationError).failure).toBe("conflict");
    // Nothing was written: still the one revoked account.
    expect((await accounts.list(10)).map((a) => [a.name, a.revokedAt])).toEqual([["ci", now]]);
  });

  test("revoking twice keeps the first time", async () => {
    const accounts = createServiceAccounts(store.accounts, clock);
    await accounts.create("twice", "viewer");
    const first = await accounts.revoke("twice");
    now += 60_000;
    const second = await accounts.revoke("twice");
    expect(second.revokedAt).toBe(first.revokedAt);
    expect((await accounts.byName("twice"))!.revokedAt).toBe(first.revokedAt);
  });

  test("last_used_at is written at most once per granularity window", async () => {
    let writes = 0;
    const counting: AccountStore = { ...store.accounts, touchLastUsed: (...a) => (writes++, store.accounts.touchLastUsed(...a)) };
    const accounts = createServiceAccounts(counting, clock);
    const { token } = await accounts.create("busy", "viewer");
    for (let i = 0; i < 50; i++) await accounts.authenticate(token);
    await store.settings.set("flush", "1"); // the next commit carries the touch
    expect(writes).toBe(1);
    expect((await accounts.byName("busy"))!.lastUsedAt).toBe(now);
    now += LAST_USED_GRANULARITY_MS;
    await accounts.authenticate(token);
    await store.settings.set("flush", "2");
    expect(writes).toBe(2);
    expect((await accounts.byName("busy"))!.lastUsedAt).toBe(now);
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
