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
import type { SendDecision } from "../../src/limits/send-rules";
import { createOutboundTransformer, MAX_INLINE_TOTAL_MS } from "../../src/telegram/api";

function scripted(decisions: SendDecision[]) {
  const asked: (number | string)[] = [];
  const holds: { chatId: number | string | null; ms: number }[] = [];
  const limiter: SendLimiter = {
    async acquire(chatId) {
      asked.push(chatId);
      return decisions.shift() ?? { ok: true, at: 0 };
    },
    async hold(chatId, ms) {
      holds.push({ chatId, ms });
    },
  };
  return { limiter, asked, holds };
}

function setup(decisions: SendDecision[], answer: (method: string) => unknown = () => ({ ok: true, result: true })) {
  const s = scripted(decisions);
  const slept: number[] = [];
  const metrics = createMetrics({ version: "t", commit: "t" });
  const called: string[] = [];
  const t = createOutboundTransformer({ limiter: s.limiter, metrics, log: createLogger({ level: "silent", secrets: [] }), sleep: async (ms) => void slept.push(ms) });
  const prev = (async (method: string) => {
    called.push(method);
    return answer(method);
  }) as never;
  const call = (method: string, payload: Record<string, unknown>) => t(prev, method as never, payload as never, undefined);
  return { ...s, slept, called, call, metrics };
}

const wait = (waitMs: number, scope: "chat" | "group" | "global" | "hold" = "chat"): SendDecision => ({ ok: false, waitMs, scope });

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
});
