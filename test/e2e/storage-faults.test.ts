/**
 * Storage faults against the compiled binary: the disk fills up (a tiny tmpfs; skipped where
 * mounting is not allowed) and another writer holds the database lock past busy_timeout.
 * tgwh must answer 503 + Retry-After, never 200 for an update it did not store, count it in its
 * metrics and logs, recover by itself once the fault clears, and leave an intact database.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { messageUpdate, postUpdate, removeDir, startTgwh, tempDir, waitFor, type TgwhProcess } from "../support/tgwh";

const cleanups: (() => void | Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const metric = async (url: string, line: string) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${line.replace(/[{}"]/g, "\\$&")} ([0-9.e+]+)$`, "m").exec(text);
  return m ? Number(m[1]) : 0;
};

function storedIds(dbPath: string): Set<number> {
  const db = new Database(dbPath, { readonly: true });
  try {
    return new Set((db.query("SELECT seq FROM jobs WHERE kind = 'telegram.update'").all() as { seq: number }[]).map((r) => r.seq));
  } finally {
    db.close();
  }
}

function integrity(dbPath: string): string {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
  } finally {
    db.close();
  }
}

/** Posts updates [from, to); returns the ids answered 200 and the 503 answers seen. */
async function postRange(url: string, from: number, to: number, pad = "") {
  const ok: number[] = [];
  const unavailable: { id: number; retryAfter: string | null }[] = [];
  for (let id = from; id < to; id++) {
    const res = await postUpdate(url, messageUpdate(id, 900 + (id % 5), `hello ${pad}`));
    await res.arrayBuffer();
    if (res.status === 200) ok.push(id);
    else if (res.status === 503) unavailable.push({ id, retryAfter: res.headers.get("retry-after") });
    else throw new Error(`update ${id}: unexpected ${res.status}`);
  }
  return { ok, unavailable };
}

function tryMountTmpfs(dir: string, size: string): boolean {
  if (process.getuid?.() !== 0) return false;
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tgwh-test-full", dir], { stdio: "ignore" });
  return r.status === 0;
}

/** Writes a filler file until the file system says ENOSPC. */
function fillDisk(path: string): void {
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
    // Fill the last partial block too.
    try {
      for (;;) writeSync(fd, chunk.subarray(0, 512));
    } catch {
      // full
    }
  } finally {
    closeSync(fd);
  }
}

describe("storage faults", () => {
  test("a database locked by another writer past busy_timeout: 503 + Retry-After, then recovers", async () => {
    const api: FakeBotApi = startFakeBotApi();
    cleanups.push(() => api.stop());
    const tg: TgwhProcess = await startTgwh({ env: { TGWH_TELEGRAM_API: api.url, TGWH_BUSY_TIMEOUT_MS: "300", TGWH_LOG_LEVEL: "info" } });
    cleanups.push(async () => {
      await tg.stop();
      removeDir(tg.dir);
    });
    const before = await postRange(tg.url, 1, 21);
    expect(before.unavailable).toEqual([]);

    const other = new Database(tg.dbPath);
    other.run("PRAGMA busy_timeout = 5000");
    other.run("BEGIN IMMEDIATE");
    const during = await postRange(tg.url, 100, 110);
    other.run("COMMIT");
    other.close();

    expect(during.unavailable.length).toBeGreaterThan(0);
    for (const u of during.unavailable) expect(u.retryAfter).toMatch(/^\d+$/);
    // Recovers by itself: the next updates are stored without a restart.
    await waitFor(async () => (await postUpdate(tg.url, messageUpdate(200, 901, "after"))).status === 200, 10_000, "tgwh to store again", tg.logs);
    // Telegram redelivers what got 503; now it is stored.
    const redelivered = await postRange(tg.url, 100, 110);
    expect(redelivered.unavailable).toEqual([]);

    const stored = storedIds(tg.dbPath);
    for (const id of [...before.ok, ...during.ok, 200, ...redelivered.ok]) expect(stored.has(id)).toBe(true);
    expect(await metric(tg.url, "tgwh_db_commit_failures_total")).toBeGreaterThan(0);
    expect(await metric(tg.url, 'tgwh_webhook_requests_total{outcome="unavailable"}')).toBe(during.unavailable.length);
    expect(tg.logs()).toContain("database commit failed");
    await waitFor(() => api.callsOf("getMe").length > 0, 5000, "the worker to start");
    expect(await tg.stop()).toBe(0);
    expect(integrity(tg.dbPath)).toBe("ok");
  }, 60_000);

  const mnt = tempDir("tgwh-full-");
  const canMount = tryMountTmpfs(mnt, "16m");
  if (canMount) cleanups.push(() => void spawnSync("umount", ["-l", mnt]));

  test.skipIf(!canMount)("disk full (a 16 MiB tmpfs, filled): 503 + Retry-After, never 200 for what was not stored; recovers when space frees", async () => {
    const api: FakeBotApi = startFakeBotApi();
    cleanups.push(() => api.stop());
    const dataDir = join(mnt, "data");
    mkdirSync(dataDir);
    const tg: TgwhProcess = await startTgwh({ dir: tempDir(), dbPath: join(dataDir, "tgwh.db"), env: { TGWH_TELEGRAM_API: api.url, TGWH_LOG_LEVEL: "info" } });
    cleanups.push(async () => {
      await tg.stop();
      removeDir(tg.dir);
    });
    const before = await postRange(tg.url, 1, 11);
    expect(before.unavailable).toEqual([]);

    fillDisk(join(mnt, "filler"));
    // Big updates, so the WAL has to grow into space that is not there.
    const pad = "x".repeat(60_000);
    const during = await postRange(tg.url, 100, 160, pad);
    expect(during.unavailable.length).toBeGreaterThan(0);
    for (const u of during.unavailable) expect(u.retryAfter).toMatch(/^\d+$/);
    expect(tg.proc.exitCode).toBeNull();
    expect(await metric(tg.url, "tgwh_db_commit_failures_total")).toBeGreaterThan(0);
    expect(await metric(tg.url, 'tgwh_webhook_requests_total{outcome="unavailable"}')).toBeGreaterThan(0);

    removeDir(join(mnt, "filler"));
    await waitFor(async () => (await postUpdate(tg.url, messageUpdate(300, 901, "after"))).status === 200, 10_000, "tgwh to store again", tg.logs);
    const redelivered = await postRange(tg.url, 100, 160, pad);
    expect(redelivered.unavailable).toEqual([]);

    const stored = storedIds(tg.dbPath);
    for (const id of [...before.ok, ...during.ok, 300, ...redelivered.ok]) expect(stored.has(id)).toBe(true);
    expect(tg.logs()).toContain("database commit failed");
    expect(await tg.stop()).toBe(0);
    expect(integrity(tg.dbPath)).toBe("ok");
  }, 60_000);
});
