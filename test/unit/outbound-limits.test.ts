/**
 * telegram/api.ts, the grammY transformer every Bot API call goes through: how it uses the send
 * limiter (ask at the moment of sending; short waits inline, long ones deferred) and what a 429
 * holds. The limiter is scripted; the clock and sleep are fake.
 */
import { describe, expect, test } from "bun:test";
import { createLogger } from "../../src/log";
import { createMetrics } from "../../src/metrics";
import { RescheduleError } from "../../src/queue/errors";
import type { SendLimiter } from "../../src/limits/send-limiter";
import type { LimitScope } from "../../src/limits/send-rules";
import { createOutboundTransformer, MAX_INLINE_TOTAL_MS } from "../../src/telegram/api";

type Scripted = { ok: true } | { ok: false; waitMs: number; scope: LimitScope };

function scripted(decisions: Scripted[], events: string[]) {
  const asked: (number | string)[] = [];
  const holds: { chatId: number | string | null; ms: number }[] = [];
  const limiter: SendLimiter = {
    async acquire(chatId) {
      asked.push(chatId);
      const d = decisions.shift() ?? { ok: true };
      if (!d.ok) return d;
      let done = 0;
      return { ok: true, at: 0, done: () => void events.push(`done ${chatId}${++done > 1 ? " again" : ""}`) };
    },
    async hold(chatId, ms) {
      holds.push({ chatId, ms });
      events.push(`hold ${chatId}`);
    },
  };
  return { limiter, asked, holds };
}

function setup(decisions: Scripted[], answer: (method: string) => unknown = () => ({ ok: true, result: true })) {
  const events: string[] = [];
  const s = scripted(decisions, events);
  const slept: number[] = [];
  const metrics = createMetrics({ version: "t", commit: "t" });
  const called: string[] = [];
  const t = createOutboundTransformer({ limiter: s.limiter, metrics, log: createLogger({ level: "silent", secrets: [] }), sleep: async (ms) => void slept.push(ms) });
  const prev = (async (method: string) => {
    called.push(method);
    events.push(`call ${method}`);
    return answer(method);
  }) as never;
  const call = (method: string, payload: Record<string, unknown>) => t(prev, method as never, payload as never, undefined);
  return { ...s, slept, called, call, metrics, events };
}

const wait = (waitMs: number, scope: LimitScope = "chat"): Scripted => ({ ok: false, waitMs, scope });

describe("outbound send limits", () => {
  test("a short wait sleeps and asks again at the moment of sending", async () => {
    const s = setup([wait(300), wait(200, "global")]);
    await s.call("sendMessage", { chat_id: 5, text: "hi" });
    expect(s.slept).toEqual([300, 200]);
    expect(s.asked).toEqual([5, 5, 5]);
    expect(s.called).toEqual(["sendMessage"]);
  });

  test("a long wait defers the job (RescheduleError) without calling Telegram", async () => {
    const s = setup([wait(3000, "group")]);
    const err = await s.call("sendMessage", { chat_id: -5, text: "hi" }).catch((e) => e);
    expect(err).toBeInstanceOf(RescheduleError);
    expect((err as RescheduleError).delayMs).toBe(3000);
    expect(s.called).toEqual([]);
    expect(await s.metrics.registry.getSingleMetricAsString("tgwh_send_limit_deferrals_total")).toContain('scope="group"} 1');
  });

  test("short waits add up to at most MAX_INLINE_TOTAL_MS, then the job is deferred", async () => {
    const s = setup(Array.from({ length: 10 }, () => wait(1000, "global")));
    const err = await s.call("sendMessage", { chat_id: 5, text: "hi" }).catch((e) => e);
    expect(err).toBeInstanceOf(RescheduleError);
    expect(s.slept.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(MAX_INLINE_TOTAL_MS);
    expect(s.called).toEqual([]);
  });

  test("calls that post nothing into a chat are not limited", async () => {
    const s = setup([wait(5000)]);
    await s.call("getMe", {});
    await s.call("answerCallbackQuery", { callback_query_id: "1" });
    expect(s.asked).toEqual([]);
  });

  test("a 429 holds its chat for retry_after; 429s for two chats within a second hold the bot", async () => {
    const tooMany = { ok: false, error_code: 429, description: "Too Many Requests: retry after 4", parameters: { retry_after: 4 } };
    const s = setup([], () => tooMany);
    await s.call("sendMessage", { chat_id: 1, text: "a" });
    expect(s.holds).toEqual([{ chatId: 1, ms: 4000 }]);
    await s.call("sendMessage", { chat_id: 2, text: "b" });
    expect(s.holds.slice(1)).toEqual([{ chatId: 2, ms: 4000 }, { chatId: null, ms: 4000 }]);
  });

  test("an allowed send holds its place until its answer is back, then is done once: answered, 429 or failed", async () => {
    const s = setup([], (method) => (method === "sendPhoto" ? { ok: false, error_code: 429, description: "Too Many Requests", parameters: { retry_after: 2 } } : { ok: true, result: true }));
    await s.call("sendMessage", { chat_id: 1, text: "a" });
    await s.call("sendPhoto", { chat_id: 2, photo: "x" });
    expect(s.events).toEqual(["call sendMessage", "done 1", "call sendPhoto", "done 2", "hold 2"]);

    const failing = setup([], () => {
      throw new Error("connect ECONNREFUSED");
    });
    await expect(failing.call("sendMessage", { chat_id: 3, text: "c" })).rejects.toThrow("ECONNREFUSED");
    expect(failing.events).toEqual(["call sendMessage", "done 3"]);
    expect(await failing.metrics.registry.getSingleMetricAsString("tgwh_bot_api_requests_total")).toContain('code="network"} 1');
  });

  test("a deferred send never got a permit: nothing to be done", async () => {
    const s = setup([wait(5000, "global")]);
    await expect(s.call("sendMessage", { chat_id: 4, text: "d" })).rejects.toBeInstanceOf(RescheduleError);
    expect(s.events).toEqual([]);
  });
});
