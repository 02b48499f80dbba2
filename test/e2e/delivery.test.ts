import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { jobOfUpdate } from "../support/db";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { messageUpdate, postUpdate, startTgwh, waitFor, type TgwhProcess } from "../support/tgwh";

let api: FakeBotApi;
let tg: TgwhProcess;

beforeAll(async () => {
  api = startFakeBotApi();
  tg = await startTgwh({ env: { TGWH_TELEGRAM_API: api.url, TGWH_WORKER_CONCURRENCY: "8" } });
});
afterAll(async () => {
  await tg?.stop();
  api?.stop();
});

const sendsTo = (chatId: number) => api.callsOf("sendMessage").filter((c) => c.payload.chat_id === chatId);
const done = (id: number) => waitFor(() => jobOfUpdate(tg.dbPath, id)?.state === "done", 15_000, `update ${id} done`, tg.logs);

describe("outbound failures", () => {
  test("429 with retry_after=2 → sent again after ≥ 2 s, the attempt is not spent", async () => {
    api.failNext("sendMessage", { kind: "error", code: 429, description: "Too Many Requests: retry after 2", retryAfter: 2 });
    expect((await postUpdate(tg.url, messageUpdate(4001, 801, "/help"))).status).toBe(200);
    await done(4001);
    const calls = sendsTo(801);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(2000);
    expect(jobOfUpdate(tg.dbPath, 4001)!.attempts).toBe(1);
  });

  test("500 → retried with backoff until it succeeds", async () => {
    api.failNext("sendMessage", { kind: "error", code: 500, description: "Internal Server Error" });
    await postUpdate(tg.url, messageUpdate(4002, 802, "/help"));
    await done(4002);
    expect(sendsTo(802)).toHaveLength(2);
    const job = jobOfUpdate(tg.dbPath, 4002)!;
    expect(job.attempts).toBe(2);
    expect(job.last_error).toBeNull();
  });

  test("403 bot blocked → discarded with the error kept, no retry storm", async () => {
    api.failNext("sendMessage", { kind: "error", code: 403, description: "Forbidden: bot was blocked by the user" });
    await postUpdate(tg.url, messageUpdate(4003, 803, "/help"));
    await waitFor(() => jobOfUpdate(tg.dbPath, 4003)?.state === "discarded", 15_000, "update 4003 discarded", tg.logs);
    await Bun.sleep(500);
    expect(sendsTo(803)).toHaveLength(1);
    expect(jobOfUpdate(tg.dbPath, 4003)).toMatchObject({ state: "discarded", attempts: 1 });
    expect(jobOfUpdate(tg.dbPath, 4003)!.last_error).toContain("bot was blocked by the user");
  });
});

describe("per-chat order", () => {
  test("200 updates over 10 chats, each chat delivered like Telegram does → each chat's replies in order", async () => {
    const chats = Array.from({ length: 10 }, (_, i) => 900 + i);
    let nextId = 50_000;
    const perChat = new Map<number, number[]>(chats.map((c) => [c, []]));
    const plan: { chat: number; id: number }[] = [];
    for (let i = 0; i < 200; i++) {
      const chat = chats[i % 10]!;
      const id = nextId++;
      plan.push({ chat, id });
      perChat.get(chat)!.push(id);
    }
    // Chats in parallel, each chat's updates one after another (Telegram waits for the 2xx).
    await Promise.all(
      chats.map(async (chat) => {
        for (const id of perChat.get(chat)!) expect((await postUpdate(tg.url, messageUpdate(id, chat, "/help", id))).status).toBe(200);
      }),
    );
    await waitFor(() => chats.every((c) => sendsTo(c).length === 20), 60_000, "200 replies", tg.logs);
    for (const chat of chats) {
      const repliedTo = sendsTo(chat).map((c) => (c.payload.reply_parameters as { message_id: number }).message_id);
      expect(repliedTo).toEqual(perChat.get(chat)!);
    }
  }, 90_000);
});
