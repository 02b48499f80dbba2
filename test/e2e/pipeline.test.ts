import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { messageUpdate, postUpdate, startTgwh, waitFor, type TgwhProcess } from "../support/tgwh";

let api: FakeBotApi;
let tg: TgwhProcess;

beforeAll(async () => {
  api = startFakeBotApi();
  tg = await startTgwh({ env: { TGWH_TELEGRAM_API: api.url, TGWH_PUBLIC_URL: "https://tg.example.test" } });
});
afterAll(async () => {
  await tg?.stop();
  api?.stop();
});

const jobState = (updateId: number) => {
  const db = new Database(tg.dbPath, { readonly: true });
  try {
    return db.query("SELECT state, attempts FROM jobs WHERE dedupe_key = ?").get(`update:${updateId}`) as { state: string; attempts: number } | null;
  } finally {
    db.close();
  }
};

describe("an update through the whole pipeline", () => {
  test("/start → 200, stored, processed, exactly one sendMessage with the web_app button", async () => {
    const res = await postUpdate(tg.url, messageUpdate(1001, 501, "/start"));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    await waitFor(() => jobState(1001)?.state === "done", 10_000, "update 1001 to be done", tg.logs);
    const sends = api.callsOf("sendMessage").filter((c) => c.payload.chat_id === 501);
    expect(sends).toHaveLength(1);
    const markup = sends[0]!.payload.reply_markup as { inline_keyboard: { web_app?: { url: string } }[][] };
    expect(markup.inline_keyboard[0]![0]!.web_app!.url).toBe("https://tg.example.test/app");
  });
});
