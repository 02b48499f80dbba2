import { randomUUID } from "node:crypto";
import { HttpError, JSON_HEADERS, jsonResponse } from "../http-error";
import { mediaType, readBodyText } from "../json-body";
import { createLineWriter, jsonNumber, jsonString, type Logger } from "../log";
import { childrenBy, type Metrics, type WebhookOutcome } from "../metrics";
import type { InsertResult as EnqueueResult, NewJob } from "../store/types";
import type { IngressLoad } from "./ingress-load";
import { createSecretCheck } from "./secret";
import { parseUpdate, updateDedupeKey } from "./updates";

export const WEBHOOK_PATH = "/telegram/webhook";
export const MAX_UPDATE_BYTES = 1024 * 1024;
export const UPDATE_MAX_ATTEMPTS = 8;

export interface WebhookDeps {
  /** Secrets accepted (the current one, plus the old one during a rotation): fixed at start-up. */
  acceptedSecrets: readonly string[];
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

/** The 200s' bodies and headers, built once: the hot path only wraps them in a new Response. */
const STORED_BODY = JSON.stringify({ ok: true });
const DUPLICATE_BODY = JSON.stringify({ ok: true, duplicate: true });
const OK_INIT: ResponseInit = { status: 200, headers: JSON_HEADERS };

/**
 * POST /telegram/webhook. Checks in the order that leaks least: secret, media type, size, JSON.
 * 200 means the update is committed to disk (or was already); 503 means nothing was stored and
 * Telegram should redeliver. Every other answer is for requests Telegram itself never sends.
 */
export function createWebhookHandler(deps: WebhookDeps) {
  const clock = deps.clock ?? Date.now;
  const load = deps.load;
  const maxAttempts = deps.maxAttempts ?? UPDATE_MAX_ATTEMPTS;
  const secretMatches = createSecretCheck(deps.acceptedSecrets);
  const requests = childrenBy(deps.metrics.webhookRequests, "outcome");
  const ackSeconds = deps.metrics.webhookAckSeconds;
  // The two 200 lines (nearly every request) are built by hand, as pino prints them (log.ts).
  const storedLine = createLineWriter(deps.log, "info", "webhook");
  return async function handleWebhook(req: Request): Promise<Response> {
    const secretOk = secretMatches(req.headers.get("x-telegram-bot-api-secret-token"));
    // Only Telegram's requests count toward a burst: a flood of wrong secrets must not take the worker's slots.
    if (!load || !secretOk) return handleOne(req, secretOk);
    load.enter();
    try {
      return await handleOne(req, true);
    } finally {
      load.leave();
    }
  };

  async function handleOne(req: Request, secretOk: boolean): Promise<Response> {
    const started = performance.now();
    const reqId = req.headers.get("x-request-id")?.slice(0, 100) ?? randomUUID();
    // Every answer but the two 200s (see the end), logged through pino: rare, so not hand-built.
    const answer = (outcome: Exclude<WebhookOutcome, "stored" | "duplicate">, res: Response, extra: Record<string, unknown> = {}) => {
      const seconds = (performance.now() - started) / 1000;
      requests(outcome).inc();
      ackSeconds.observe(seconds);
      const level = outcome === "unavailable" ? "error" : "warn";
      deps.log[level]({ reqId, outcome, status: res.status, ms: Number((seconds * 1000).toFixed(2)), ...extra }, "webhook");
      return res;
    };

    if (!secretOk) {
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
      maxAttempts,
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
    if (result.inserted) deps.onStored();
    const outcome = result.inserted ? "stored" : "duplicate";
    const seconds = (performance.now() - started) / 1000;
    requests(outcome).inc();
    ackSeconds.observe(seconds);
    // What answer() would log: { reqId, outcome, status, ms, update_id, jobId, kind[, type] };
    // jobId only once the store has one (an ingest journal assigns it at import, and answers 0).
    storedLine(
      `,"reqId":${jsonString(reqId)},"outcome":"${outcome}","status":200,"ms":${jsonNumber(Number((seconds * 1000).toFixed(2)))}` +
        `,"update_id":${jsonNumber(parsed.updateId)}${result.id ? `,"jobId":${jsonNumber(result.id)}` : ""},"kind":${jsonString(job.kind)}` +
        (result.inserted ? `,"type":${jsonString(parsed.type)}` : ""),
    );
    return new Response(result.inserted ? STORED_BODY : DUPLICATE_BODY, OK_INIT);
  }
}
