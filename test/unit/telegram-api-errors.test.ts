/**
 * telegram/api-errors.ts: what a Bot API failure means for the job (retry later without spending
 * an attempt, discard for good, or retry with backoff). One row per case.
 */
import { describe, expect, test } from "bun:test";
import { BotError, GrammyError, HttpError } from "grammy";
import { PermanentJobError, RescheduleError } from "../../src/queue/errors";
import { classifyBotApiError } from "../../src/telegram/api-errors";

const grammyError = (code: number, description: string, parameters: Record<string, unknown> = {}) =>
  new GrammyError(`Call to 'sendMessage' failed! (${code}: ${description})`, { ok: false, error_code: code, description, parameters }, "sendMessage", { chat_id: 1, text: "x" });

describe("classifyBotApiError", () => {
  const ROWS: { name: string; thrown: unknown; is: Function; message: string; delayMs?: number }[] = [
    { name: "429 with retry_after → reschedule after it", thrown: grammyError(429, "Too Many Requests: retry after 7", { retry_after: 7 }), is: RescheduleError, message: "Bot API sendMessage: 429 Too Many Requests: retry after 7 (retry_after 7s)", delayMs: 7000 },
    { name: "429 without retry_after → reschedule after 1 s", thrown: grammyError(429, "Too Many Requests"), is: RescheduleError, message: "(retry_after 1s)", delayMs: 1000 },
    { name: "429 with retry_after 0 → at least 1 s", thrown: grammyError(429, "Too Many Requests", { retry_after: 0 }), is: RescheduleError, message: "(retry_after 1s)", delayMs: 1000 },
    { name: "403 bot blocked → discarded", thrown: grammyError(403, "Forbidden: bot was blocked by the user"), is: PermanentJobError, message: "Bot API sendMessage: 403 Forbidden: bot was blocked by the user" },
    { name: "400 chat not found → discarded", thrown: grammyError(400, "Bad Request: chat not found"), is: PermanentJobError, message: "400 Bad Request: chat not found" },
    { name: "401 wrong token → transient (the operator fixes it, then retries)", thrown: grammyError(401, "Unauthorized"), is: Error, message: "Bot API sendMessage: 401 Unauthorized" },
    { name: "409 conflict → transient", thrown: grammyError(409, "Conflict"), is: Error, message: "409 Conflict" },
    { name: "500 → transient", thrown: grammyError(500, "Internal Server Error"), is: Error, message: "500 Internal Server Error" },
    { name: "network failure → transient, said so", thrown: new HttpError("Network request for 'sendMessage' failed!", new Error("ECONNREFUSED")), is: Error, message: "Bot API network error: Network request for 'sendMessage' failed!" },
  ];
  for (const row of ROWS) {
    test(row.name, () => {
      const out = classifyBotApiError(row.thrown) as Error;
      expect(out).toBeInstanceOf(row.is);
      // A plain Error must not be one of the two signals: those change the job's fate.
      if (row.is === Error) expect(out instanceof RescheduleError || out instanceof PermanentJobError).toBe(false);
      expect(out.message).toContain(row.message);
      if (row.delayMs !== undefined) expect((out as RescheduleError).delayMs).toBe(row.delayMs);
    });
  }

  test("a handler's error wrapped by bot.handleUpdate (BotError) is unwrapped first", () => {
    const wrapped = new BotError(grammyError(403, "Forbidden: bot was kicked from the group chat"), {} as never);
    expect(classifyBotApiError(wrapped)).toBeInstanceOf(PermanentJobError);
  });

  test("anything else passes through unchanged", () => {
    const own = new TypeError("handler bug");
    expect(classifyBotApiError(own)).toBe(own);
    expect(classifyBotApiError("a string")).toBe("a string");
  });
});
