import { randomBytes } from "node:crypto";
import type { NewJob } from "../store/types";

/**
 * The `notify.send` job: one sendMessage, queued durably and sent under Telegram's limits.
 * Queued by the admin and internal APIs (operations/notifications.ts) and by a sign-in with
 * TGWH_LOGIN_NOTIFY (auth/routes.ts); run by telegram/jobs.ts.
 */
export interface NotifyPayload {
  chatId: number | string;
  text: string;
  parseMode?: "HTML" | "MarkdownV2" | "Markdown";
}

export interface NotificationInput extends NotifyPayload {
  /** Makes the call idempotent: the same key never queues a second message. */
  dedupeKey?: string;
}

export const NOTIFY_MAX_ATTEMPTS = 10;

/** Telegram's limit for one message's text (after entity parsing; the admin API checks the raw text). */
export const NOTIFY_TEXT_MAX = 4096;

/** The job row for one notification. Pure apart from a random dedupe key; the order key keeps one chat's messages in order. */
export function notificationJob(input: NotificationInput, now: number): NewJob {
  const payload: NotifyPayload = { chatId: input.chatId, text: input.text, ...(input.parseMode ? { parseMode: input.parseMode } : {}) };
  return {
    kind: "notify.send",
    dedupeKey: `notify:${input.dedupeKey ?? randomBytes(12).toString("base64url")}`,
    orderKey: `send:chat:${input.chatId}`,
    seq: 0,
    payload: JSON.stringify(payload),
    maxAttempts: NOTIFY_MAX_ATTEMPTS,
    runAt: now,
  };
}
