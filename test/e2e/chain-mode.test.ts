/**
 * `tgwh migrate --chain-list | --chain-index` on the compiled binary (store/sqlite/chains/): a file
 * from a release before 0003 keeps the jobs_chain index until told, the switch runs while tgwh
 * serves on the file, and every chat's replies stay in update_id order across it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { applyMigrations } from "../../src/store/sqlite/migrate";
import { embeddedMigrations } from "../../src/store/sqlite/migrations";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { messageUpdate, postUpdate, removeDir, runTgwh, startTgwh, tempDir, waitFor } from "../support/tgwh";

let api: FakeBotApi;
let dir: string;
let dbPath: string;
beforeAll(() => {
  api = startFakeBotApi();
  dir = tempDir();
  dbPath = join(dir, "earlier.db");
  const db = new Database(dbPath, { create: true, strict: true });
  db.run("PRAGMA journal_mode = WAL");
  applyMigrations(db, embeddedMigrations.filter((m) => m.tag < "0003"));
  db.close();
});
afterAll(() => {
  api?.stop();
  removeDir(dir);
});

const status = async () => {
  const r = await runTgwh(["migrate", "--status", "--json"], { TGWH_DB: dbPath });
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { pending: string[]; chains?: string };
};
const sendsTo = (chatId: number) => api.callsOf("sendMessage").filter((c) => c.payload.chat_id === chatId);

/** Posts like Telegram: until a 200 (a write that meets the switch fails with a 5xx and is sent again). */
async function deliver(url: string, id: number, chat: number): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    if ((await postUpdate(url, messageUpdate(id, chat, "/help", id))).status === 200) return;
    await Bun.sleep(50);
  }
  throw new Error(`update ${id} never got a 200`);
}

describe("chain mode of a SQLite file", () => {
  test("switched to the lists while tgwh serves: every chat's replies in update_id order", async () => {
    const tg = await startTgwh({ dbPath, env: { TGWH_TELEGRAM_API: api.url, TGWH_WORKER_CONCURRENCY: "8" } });
    try {
      expect((await status()).chains).toBe("index");
      const chats = [701, 702, 703, 704, 705];
      const ids = new Map(chats.map((c, i) => [c, Array.from({ length: 40 }, (_, k) => 70_000 + i * 100 + k)]));
      let switched: Promise<{ code: number; stderr: string }> | null = null;
      await Promise.all(
        chats.map(async (chat) => {
          for (const [k, id] of ids.get(chat)!.entries()) {
            if (k === 15 && chat === chats[0]) switched = runTgwh(["migrate", "--chain-list"], { TGWH_DB: dbPath });
            await deliver(tg.url, id, chat);
          }
        }),
      );
      const sw = await switched!;
      expect(sw.stderr).toBe("");
      expect(sw.code).toBe(0);
      await waitFor(() => chats.every((c) => sendsTo(c).length >= 40), 60_000, "200 replies", tg.logs);
      for (const chat of chats) {
        const repliedTo = sendsTo(chat).map((c) => (c.payload.reply_parameters as { message_id: number }).message_id);
        expect(repliedTo).toEqual(ids.get(chat)!);
      }
      expect((await status()).chains).toBe("list");
      // Back to the index is refused while tgwh runs on the file (it would keep writing the lists).
      const refused = await runTgwh(["migrate", "--chain-index"], { TGWH_DB: dbPath });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`pid ${tg.pid} (`);
      expect((await status()).chains).toBe("list");
    } finally {
      expect(await tg.stop()).toBe(0);
    }
  }, 90_000);

  test("--chain-index puts the index back (before a rollback); a flag pair that contradicts itself is a usage error", async () => {
    const back = await runTgwh(["migrate", "--chain-index", "--json"], { TGWH_DB: dbPath });
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ pending: [], chains: "index" });
    const text = await runTgwh(["migrate", "--chain-list"], { TGWH_DB: dbPath });
    expect(text.stdout).toContain("per-chat order by list");
    for (const args of [["--status", "--chain-list"], ["--chain-list", "--chain-index"]]) {
      const r = await runTgwh(["migrate", ...args], { TGWH_DB: dbPath });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/give one of them/);
    }
    expect((await status()).chains).toBe("list");
    // PostgreSQL keeps its index: refused before connecting, the URL's password never shown.
    const pg = await runTgwh(["migrate", "--chain-list"], { TGWH_DATABASE_URL: "postgres://tgwh:not-a-real-password@127.0.0.1:1/tgwh" });
    expect(pg.code).toBe(2);
    expect(pg.stderr).toContain("PostgreSQL keeps per-chat order in its jobs_chain index");
    expect(pg.stderr).not.toContain("not-a-real-password");
  });
});
