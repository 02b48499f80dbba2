import { afterAll, expect, test } from "bun:test";
import { withDb } from "../support/db";
import { startFakeBotApi } from "../support/fake-bot-api";
import { messageUpdate, postUpdate, removeDir, startTgwh, tempDir, waitFor } from "../support/tgwh";

const api = startFakeBotApi();
const dir = tempDir();
afterAll(() => {
  api.stop();
  removeDir(dir);
});

test("kill -9 during a burst of 2,000 updates: every acknowledged update is processed, none twice", async () => {
  const env = { TGWH_TELEGRAM_API: api.url, TGWH_WORKER_CONCURRENCY: "8" };
  const first = await startTgwh({ dir, env });
  const total = 2000;
  const ids = Array.from({ length: total }, (_, i) => 100_000 + i);
  const acked = new Set<number>();
  let killed = false;
  let next = 0;
  // 50 connections, like Telegram's max_connections; kill -9 once 600 are acknowledged.
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        try {
          const res = await postUpdate(first.url, messageUpdate(id, 10_000 + id, "/help"));
          if (res.status === 200) acked.add(id);
        } catch {
          // connection refused or reset by the kill: Telegram would redeliver
        }
        if (!killed && acked.size >= 600) {
          killed = true;
          await first.kill9();
        }
      }
    }),
  );
  expect(killed).toBe(true);
  const ackedBeforeKill = new Set(acked);
  expect(ackedBeforeKill.size).toBeGreaterThanOrEqual(600);

  // Restart at once on the same port and database, as systemd's Restart=always would.
  const second = await startTgwh({ dir, port: first.port, env });
  try {
    // Telegram redelivers what was not acknowledged.
    for (const id of ids.filter((x) => !acked.has(x))) {
      const res = await postUpdate(second.url, messageUpdate(id, 10_000 + id, "/help"));
      expect(res.status).toBe(200);
      acked.add(id);
    }
    const doneCount = () => withDb(second.dbPath, (db) => (db.query("SELECT count(*) AS n FROM jobs WHERE state = 'done'").get() as { n: number }).n);
    await waitFor(() => doneCount() === total, 90_000, "all 2,000 updates done", second.logs);

    const rows = withDb(second.dbPath, (db) => db.query("SELECT dedupe_key AS k, state FROM jobs WHERE kind = 'telegram.update'").all() as { k: string; state: string }[]);
    expect(rows).toHaveLength(total); // one row per update_id: nothing stored twice
    const stored = new Set(rows.map((r) => Number(r.k.split(":")[1])));
    for (const id of ackedBeforeKill) expect(stored.has(id)).toBe(true); // none that got a 200 is missing

    // Every update was answered; only jobs running at the kill may have answered twice.
    const replies = new Map<number, number>();
    for (const c of api.callsOf("sendMessage")) replies.set(Number(c.payload.chat_id), (replies.get(Number(c.payload.chat_id)) ?? 0) + 1);
    const missing = ids.filter((id) => !replies.has(10_000 + id));
    expect(missing).toEqual([]);
    const repeated = [...replies.values()].filter((n) => n > 1).length;
    expect(repeated).toBeLessThanOrEqual(8); // at most the worker concurrency at the kill moment
    expect(withDb(second.dbPath, (db) => db.query("PRAGMA integrity_check").get())).toEqual({ integrity_check: "ok" });
  } finally {
    await second.stop();
  }
}, 150_000);
