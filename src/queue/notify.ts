import { randomBytes } from "node:crypto";
import type { AppContext } from "../app";
import { NOTIFY_MAX_ATTEMPTS, type NotifyPayload } from "../telegram/jobs";

export interface NotificationInput {
  chatId: number | string;
  text: string;
  parseMode?: NotifyPayload["parseMode"];
  /** Makes the call idempotent: the same key never queues a second message. */
  dedupeKey?: string;
}

export interface EnqueuedNotification {
  jobId: number;
  /** false when dedupeKey matched an earlier notification (its job id is returned). */
  inserted: boolean;
}

/** Telegram's limit for one message's text (after entity parsing; checked on the raw text here). */
export const NOTIFY_TEXT_MAX = 4096;

/** The job row for one notification. Pure; the order key keeps one chat's messages in order. */
export function notificationJob(input: NotificationInput, now: number) {
  const payload: NotifyPayload = { chatId: input.chatId, text: input.text, ...(input.parseMode ? { parseMode: input.parseMode } : {}) };
  return {
    kind: "notify.send" as const,
    dedupeKey: `notify:${input.dedupeKey ?? randomBytes(12).toString("base64url")}`,
    orderKey: `send:chat:${input.chatId}`,
    seq: 0,
    payload: JSON.stringify(payload),
    maxAttempts: NOTIFY_MAX_ATTEMPTS,
    runAt: now,
  };
}

/**
 * Queues one sendMessage as a durable job (admin route, internal route, login notification and
 * CLI all come here). Resolves once the job is committed, then wakes the worker.
 */
export async function enqueueNotification(
  ctx: Pick<AppContext, "store" | "worker" | "clock">,
  input: NotificationInput,
): Promise<EnqueuedNotification> {
  const [res] = await ctx.store.jobs.insert([notificationJob(input, ctx.clock())]);
  ctx.worker.wake();
  return { jobId: res!.id, inserted: res!.inserted };
}
