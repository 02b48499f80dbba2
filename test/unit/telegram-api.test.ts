/**
 * telegram/api.ts, the transformer on every outbound Bot API call: what it counts and where its
 * 429 line goes. (How it applies the send limits: outbound-limits.test.ts.)
 */
import { describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import type { SendLimiter } from "../../src/limits/send-limiter";
import { createLogger } from "../../src/log";
import { createMetrics } from "../../src/metrics";
import { runWithJobLog } from "../../src/queue/job-context";
import { createOutboundTransformer, SEND_METHODS } from "../../src/telegram/api";

const openLimiter: SendLimiter = { acquire: async () => ({ ok: true, at: 0, done() {} }), hold: async () => {} };

function collectingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: createLogger({ level: "debug", secrets: [], destination }), lines };
}

function setup(answer: (method: string) => unknown) {
  const metrics = createMetrics({ version: "t", commit: "t" });
  const { log, lines } = collectingLogger();
  const t = createOutboundTransformer({ limiter: openLimiter, metrics, log });
  const prev = (async (method: string) => answer(method)) as never;
  const call = (method: string, payload: Record<string, unknown> = {}) => t(prev, method as never, payload as never, undefined);
  const count = async (method: string, code: string) => {
    const values = (await metrics.botApiCalls.get()).values;
    return values.find((v) => v.labels.method === method && v.labels.code === code)?.value ?? 0;
  };
  return { call, count, metrics, lines, log };
}

describe("counting every Bot API call", () => {
  test("by method and result: 200, Telegram's error_code, or network (rethrown)", async () => {
    const s = setup((method) => {
      if (method === "getMe") return { ok: true, result: {} };
      if (method === "sendMessage") return { ok: false, error_code: 403, description: "Forbidden" };
      throw new Error("ECONNRESET");
    });
    await s.call("getMe");
    await s.call("getMe");
    const refused = await s.call("sendMessage", { chat_id: 1, text: "x" });
    expect(refused).toMatchObject({ ok: false, error_code: 403 });
    await expect(s.call("deleteWebhook")).rejects.toThrow("ECONNRESET");
    expect(await s.count("getMe", "200")).toBe(2);
    expect(await s.count("sendMessage", "403")).toBe(1);
    expect(await s.count("deleteWebhook", "network")).toBe(1);
  });

  test("a 429 adds its retry_after to the seconds counter and logs on the running job's line", async () => {
    const s = setup(() => ({ ok: false, error_code: 429, description: "Too Many Requests", parameters: { retry_after: 3 } }));
    const jobLog = s.log.child({ jobId: 77, kind: "notify.send" });
    await runWithJobLog(jobLog, () => s.call("sendMessage", { chat_id: 9, text: "x" }));
    await s.call("sendMessage", { chat_id: 10, text: "y" });
    expect((await s.metrics.botApiRetryAfterSeconds.get()).values[0]?.value).toBe(6);
    await Bun.sleep(10);
    const limited = s.lines.filter((l) => l.msg === "Bot API answered 429 Too Many Requests");
    expect(limited).toHaveLength(2);
    expect(limited[0]).toMatchObject({ jobId: 77, kind: "notify.send", method: "sendMessage", retryAfter: 3, held: ["chat"] });
    // Outside a job (startup, the CLI) the line still appears, on the base logger.
    expect(limited[1]!.jobId).toBeUndefined();
  });
});

describe("SEND_METHODS", () => {
  test("holds the methods that post into a chat and none that only read or edit", () => {
    for (const m of ["sendMessage", "sendPhoto", "sendMediaGroup", "copyMessage", "forwardMessages"]) expect(SEND_METHODS.has(m)).toBe(true);
    for (const m of ["getMe", "editMessageText", "answerCallbackQuery", "setWebhook", "deleteMessage"]) expect(SEND_METHODS.has(m)).toBe(false);
  });
});
