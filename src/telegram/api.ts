import type { Transformer } from "grammy";
import type { Logger } from "../log";
import type { Metrics } from "../metrics";
import { RescheduleError } from "../queue/errors";
import { currentJobLog } from "../queue/job-context";
import { createRetryAfterPolicy } from "../limits/retry-after";
import type { SendLimiter, SendPermit } from "../limits/send-limiter";

/** Methods that post into a chat and so count against Telegram's sending limits. */
export const SEND_METHODS = new Set([
  "sendMessage", "sendPhoto", "sendAudio", "sendDocument", "sendVideo", "sendAnimation", "sendVoice",
  "sendVideoNote", "sendMediaGroup", "sendLocation", "sendVenue", "sendContact", "sendPoll", "sendDice",
  "sendSticker", "sendInvoice", "sendGame", "sendPaidMedia", "copyMessage", "copyMessages",
  "forwardMessage", "forwardMessages",
]);

/** A wait longer than this inside a job would hold a worker slot; the job is deferred instead. */
export const MAX_INLINE_WAIT_MS = 1100;
/**
 * Waits of one send add up to at most this: under contention a job can lose the freed slot to
 * another several times, and a deferral frees its worker slot for a chat that can go now.
 */
export const MAX_INLINE_TOTAL_MS = 2500;

export interface OutboundDeps {
  limiter: SendLimiter;
  metrics: Pick<Metrics, "botApiCalls" | "botApiRetryAfterSeconds" | "sendLimitDeferrals">;
  log: Logger;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * grammY API transformer for every outbound call. A send asks the limiter at the moment it would
 * go: go now, or wait. A short wait sleeps and asks again (the decision is never booked ahead,
 * so a late wake-up cannot bunch sends); a long one defers the job without spending an attempt.
 * An allowed send holds its place in the limits until its answer (or failure) is back: the
 * latest moment Telegram can have counted it. A 429 holds the chat (or the bot) for its
 * retry_after. Every result is counted by method and code.
 */
export function createOutboundTransformer(deps: OutboundDeps): Transformer {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const retryAfter = createRetryAfterPolicy();
  return async function limitAndCount(prev, method, payload, signal) {
    const chatId = (payload as { chat_id?: number | string } | undefined)?.chat_id;
    let permit: SendPermit | null = null;
    if (SEND_METHODS.has(method) && chatId !== undefined) {
      for (let waited = 0; ; ) {
        const d = await deps.limiter.acquire(chatId);
        if (d.ok) {
          permit = d;
          break;
        }
        if (d.waitMs > MAX_INLINE_WAIT_MS || waited + d.waitMs > MAX_INLINE_TOTAL_MS) {
          deps.metrics.sendLimitDeferrals.inc({ scope: d.scope });
          throw new RescheduleError(d.waitMs, `send limit (${d.scope}) reached; deferred ${d.waitMs} ms`);
        }
        await sleep(d.waitMs);
        waited += d.waitMs;
      }
    }
    let res: Awaited<ReturnType<typeof prev>>;
    try {
      res = await prev(method, payload, signal);
    } catch (err) {
      permit?.done();
      deps.metrics.botApiCalls.inc({ method, code: "network" });
      throw err;
    }
    permit?.done();
    const code = res.ok ? "200" : String(res.error_code);
    deps.metrics.botApiCalls.inc({ method, code });
    if (!res.ok && res.error_code === 429) {
      const seconds = Number(res.parameters?.retry_after ?? 0);
      deps.metrics.botApiRetryAfterSeconds.inc(seconds);
      const holds = seconds > 0 ? retryAfter.targets(chatId) : [];
      for (const h of holds) await deps.limiter.hold(h.chatId, seconds * 1000);
      (currentJobLog() ?? deps.log).warn({ method, retryAfter: seconds, held: holds.map((h) => (h.chatId === null ? "bot" : "chat")) }, "Bot API answered 429 Too Many Requests");
    }
    return res;
  };
}
