import type { Bot } from "grammy";
import type { Update } from "grammy/types";
import { PermanentJobError } from "../queue/errors";
import type { JobHandler } from "../queue/worker";
import { classifyBotApiError } from "./api-errors";
import type { NotifyPayload } from "./notifications";

/** Runs fn and rethrows a Bot API failure as the worker's retry/permanent signal. */
async function withBotApiErrors(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    throw classifyBotApiError(err);
  }
}

function parsePayload<T>(raw: string, what: string): T {
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw new PermanentJobError(`${what} payload is not valid JSON`);
  }
}

/** The job kinds the Telegram side handles, one row each, run by `bot` (built before the worker starts). */
export function createTelegramJobHandlers(bot: Pick<Bot, "handleUpdate" | "api">): Record<string, JobHandler> {
  return {
    "telegram.update": async (job, { log }) => {
      const update = parsePayload<Update>(job.payload, "update");
      log.debug("handling update");
      await withBotApiErrors(() => bot.handleUpdate(update));
    },
    "notify.send": async (job) => {
      const p = parsePayload<NotifyPayload>(job.payload, "notification");
      await withBotApiErrors(() => bot.api.sendMessage(p.chatId, p.text, p.parseMode ? { parse_mode: p.parseMode } : {}));
    },
  };
}
