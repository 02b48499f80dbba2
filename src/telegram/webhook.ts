import { randomUUID } from "node:crypto";
import { HttpError, jsonResponse } from "../http-error";
import { mediaType, readBodyText } from "../json-body";
import type { Logger } from "../log";
import type { Metrics, WebhookOutcome } from "../metrics";
import type { InsertResult as EnqueueResult, NewJob } from "../store/types";
import type { IngressLoad } from "./ingress-load";
import { secretMatches } from "./secret";
import { parseUpdate, updateDedupeKey } from "./updates";

export const WEBHOOK_PATH = "/telegram/webhook";
export const MAX_UPDATE_BYTES = 1024 * 1024;
export const UPDATE_MAX_ATTEMPTS = 8;

export interface WebhookDeps {
  /** Secrets accepted right now (the current one, plus the old one during a rotation). */
  acceptedSecrets: () => readonly string[];
  enqueue: (jobs: NewJob[]) => Promise<EnqueueResult[]>;
  /** Called after a new update is durable, so the worker looks at once. */
  onStored: () => void;
  log: Logger;
  metrics: Pick<Metrics, "webhookRequests" | "webhookAckSeconds">;
  /** Attempts an update gets before it is dead (TGWH_UPDATE_MAX_ATTEMPTS). */
  maxAttempts?: number;
  clock?: () => number;
  /** Counts requests in flight, so the worker can yield to a burst (see ingress-load.ts). */
  load?: Pick<IngressLoad, "enter" | "leave">;
}

const json = jsonResponse;

/**
 * POST /telegram/webhook. Checks in the order that leaks least: secret, media type, size, JSON.
 * 200 means the update is committed to disk (or was already); 503 means nothing was stored and
 * Telegram should redeliver. Every other answer is for requests Telegram itself never sends.
 */
export function createWebhookHandler(deps: WebhookDeps) {
  const clock = deps.clock ?? Date.now;
  const load = deps.load;
  return async function handleWebhook(req: Request): Promise<Response> {
    if (!load) return handleOne(req);
    load.enter();
    try {
      return await handleOne(req);
    } finally {
      load.leave();
    }
  };

  async function handleOne(req: Request): Promise<Response> {
    const started = performance.now();
    const reqId = req.headers.get("x-request-id")?.slice(0, 100) ?? randomUUID();
    const answer = (outcome: WebhookOutcome, res: Response, extra: Record<string, unknown> = {}) => {
      const seconds = (performance.now() - started) / 1000;
      deps.metrics.webhookRequests.inc({ outcome });
      deps.metrics.webhookAckSeconds.observe(seconds);
      const level = outcome === "stored" || outcome === "duplicate" ? "info" : outcome === "unavailable" ? "error" : "warn";
      deps.log[level]({ reqId, outcome, status: res.status, ms: Number((seconds * 1000).toFixed(2)), ...extra }, "webhook");
      return res;
    };

    if (!secretMatches(req.headers.get("x-telegram-bot-api-secret-token"), deps.acceptedSecrets())) {
      return answer("unauthorized", json(401, { ok: false, error: "missing or wrong X-Telegram-Bot-Api-Secret-Token header" }));
    }
    if (mediaType(req.headers.get("content-type")) !== "application/json") {
      return answer("unsupported_media_type", json(415, { ok: false, error: "Content-Type must be application/json" }));
    }
    let text: string;
    try {
      text = await readBodyText(req, MAX_UPDATE_BYTES);
    } catch (err) {
      const { status, message } = err instanceof HttpError ? err : { status: 400, message: "could not read the request body" };
      return answer(status === 413 ? "too_large" : "bad_request", json(status, { ok: false, error: message }));
    }
    const parsed = parseUpdate(text);
    if (!parsed.ok) return answer("bad_request", json(400, { ok: false, error: parsed.message }));

    const job: NewJob = {
      kind: "telegram.update",
      dedupeKey: updateDedupeKey(parsed.updateId),
      orderKey: parsed.orderKey,
      seq: parsed.updateId,
      payload: text,
      maxAttempts: deps.maxAttempts ?? UPDATE_MAX_ATTEMPTS,
      runAt: clock(),
    };
    let result: EnqueueResult;
    try {
      [result] = (await deps.enqueue([job])) as [EnqueueResult];
    } catch (err) {
      return answer(
        "unavailable",
        json(503, { ok: false, error: "storage unavailable; the update was not stored, retry later" }, { "retry-after": "5" }),
        { update_id: parsed.updateId, err: (err as Error)?.message },
      );
    }
    if (result.inserted) {
      deps.onStored();
      return answer("stored", json(200, { ok: true }), { update_id: parsed.updateId, jobId: result.id, kind: job.kind, type: parsed.type });
    }
    return answer("duplicate", json(200, { ok: true, duplicate: true }), { update_id: parsed.updateId, jobId: result.id, kind: job.kind });
  }
}
