import { BotError, GrammyError, HttpError } from "grammy";
import { PermanentJobError, RescheduleError } from "../queue/errors";

/**
 * Turns a Bot API failure into what the worker should do with the job. Pure, tested alone.
 * - 429: run again after retry_after, without spending an attempt.
 * - 400 / 403 (chat not found, bot blocked, message too long): retrying cannot help; the job
 *   ends discarded with the error kept, so a blocked user does not cause a retry storm.
 * - 401 / 404 / 409 / 5xx / network: transient (a wrong token is fixed by the operator, who can
 *   then retry the dead jobs), retried with backoff.
 */
export function classifyBotApiError(thrown: unknown): unknown {
  // bot.handleUpdate wraps what a handler threw in a BotError.
  const err = thrown instanceof BotError ? thrown.error : thrown;
  if (err instanceof GrammyError) {
    const what = `Bot API ${err.method}: ${err.error_code} ${err.description}`;
    if (err.error_code === 429) {
      const seconds = Math.max(1, Number(err.parameters?.retry_after ?? 1));
      return new RescheduleError(seconds * 1000, `${what} (retry_after ${seconds}s)`);
    }
    if (err.error_code === 400 || err.error_code === 403) return new PermanentJobError(what);
    return new Error(what);
  }
  if (err instanceof HttpError) return new Error(`Bot API network error: ${err.message}`);
  return err;
}
