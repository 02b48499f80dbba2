import type { Transformer } from "grammy";
import type { Logger } from "../log";
import type { Metrics } from "../metrics";
import { RescheduleError } from "../queue/errors";
import { currentJobLog } from "../queue/job-context";
import type { SendGuard } from "./send-guard";
import type { SendLimiter } from "./send-limits";

/** Methods that post into a chat and so count against Telegram's sending limits. */
export const SEND_METHODS = new Set([
  "sendMessage", "sendPhoto", "sendAudio", "sendDocument", "sendVideo", "sendAnimation", "sendVoice",
  "sendVideoNote", "sendMediaGroup", "sendLocation", "sendVenue", "sendContact", "sendPoll", "sendDice",
  "sendSticker", "sendInvoice", "sendGame", "sendPaidMedia", "copyMessage", "copyMessages",
  "forwardMessage", "forwardMessages",
]);

/** Waiting longer than this inside a job would hold a worker slot; the job is deferred instead. */
export const MAX_INLINE_WAIT_MS = 1100;

export interface OutboundDeps {
  limiter: SendLimiter;
  /** Re-checks the hard limits at the moment of sending (a late wake-up must not bunch sends). */
  guard?: SendGuard;
  metrics: Pick<Metrics, "botApiCalls" | "botApiRetryAfterSeconds" | "sendLimitDeferrals">;
  log: Logger;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * grammY API transformer for every outbound call: books a slot with the send limiter (waiting a
 * little, or deferring the job when the slot is far), then counts the result by method and code.
 */
export function createOutboundTransformer(deps: OutboundDeps): Transformer {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  return async function limitAndCount(prev, method, payload, signal) {
    const chatId = (payload as { chat_id?: number | string } | undefined)?.chat_id;
    if (SEND_METHODS.has(method) && chatId !== undefined) {
      const slot = deps.limiter.reserve(chatId, MAX_INLINE_WAIT_MS);
      if (!slot.booked) {
        deps.metrics.sendLimitDeferrals.inc({ scope: slot.scope });
        throw new RescheduleError(slot.waitMs, `send limit (${slot.scope}) reached; deferred ${slot.waitMs} ms`);
      }
      if (slot.waitMs > 0) await sleep(slot.waitMs);
      await deps.guard?.beforeSend(chatId);
    }
    try {
      const res = await prev(method, payload, signal);
      const code = res.ok ? "200" : String(res.error_code);
      deps.metrics.botApiCalls.inc({ method, code });
      if (!res.ok && res.error_code === 429) {
        const retryAfter = Number(res.parameters?.retry_after ?? 0);
        deps.metrics.botApiRetryAfterSeconds.inc(retryAfter);
        if (chatId !== undefined && retryAfter > 0) deps.limiter.holdChat?.(chatId, Date.now() + retryAfter * 1000);
        (currentJobLog() ?? deps.log).warn({ method, retryAfter }, "Bot API answered 429 Too Many Requests");
      }
      return res;
    } catch (err) {
      deps.metrics.botApiCalls.inc({ method, code: "network" });
      throw err;
    }
  };
}
