import { Elysia } from "elysia";
import { ConfigError } from "./config";
import type { ReadinessCheck } from "./health";
import { errorResponse as errorBody, HttpError } from "./http-error";
import { uncappedBodyRoutes } from "./json-body";
import type { Logger } from "./log";
import type { Metrics } from "./metrics";
import { OperationError, type OperationFailure } from "./operations/errors";
import { WEBHOOK_PATH } from "./telegram/webhook";

/** What each kind of refused operation (operations/errors.ts) answers over HTTP; the CLI's exit codes are in cli/command.ts. */
export const STATUS_OF_FAILURE: Readonly<Record<OperationFailure, number>> = { invalid: 400, not_found: 404, conflict: 409, upstream: 502 };

/** Every error a route may throw, and Elysia's own (validation, parse, not found), as `{ok:false, error}` with its status. */
function mapError(code: string | number, error: unknown): Response | undefined {
  if (error instanceof HttpError) return errorBody(error.status, error.message, error.headers);
  if (error instanceof OperationError) return errorBody(STATUS_OF_FAILURE[error.failure], error.message);
  // The request was fine; this server's configuration lacks what the call needs (e.g. TGWH_PUBLIC_URL).
  if (error instanceof ConfigError) return errorBody(409, `server configuration: ${error.message}`);
  // A route's `parse` hook (a size cap or rate limit before the body is read) threw an HttpError;
  // Elysia wraps it in its ParseError.
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (code === "PARSE" && cause instanceof HttpError) return errorBody(cause.status, cause.message, cause.headers);
  switch (code) {
    case "NOT_FOUND":
      return errorBody(404, "no such route");
    case "PARSE":
      return errorBody(400, "request body could not be parsed; send valid JSON with Content-Type: application/json");
    case "VALIDATION": {
      const v = error as { all?: { path?: string; summary?: string; message?: string; schema?: { error?: unknown } }[] };
      const first = v.all?.[0];
      const field = first?.path ? first.path.replace(/^\//, "").replace(/\//g, ".") : "body";
      // A schema's own `error` text (e.g. "must be one of pending, running, done, dead") beats the generic summary.
      const custom = typeof first?.schema?.error === "string" ? first.schema.error : null;
      return errorBody(400, `invalid ${field || "body"}: ${custom ?? first?.summary ?? first?.message ?? "does not match the schema"}`);
    }
    case "INVALID_COOKIE_SIGNATURE":
      return errorBody(400, "invalid cookie");
    default:
      return undefined;
  }
}

export interface HttpAppDeps {
  log: Pick<Logger, "error">;
  metrics: Pick<Metrics, "registry" | "collectQueue">;
  /** /readyz: each check names itself; any failing one makes it 503. */
  readiness: () => Promise<ReadinessCheck[]>;
  /** The webhook ingress (telegram/webhook.ts); serve.ts also mounts it straight on Bun.serve. */
  handleWebhook: (req: Request) => Promise<Response>;
  /** The route modules beside the webhook, health and metrics (auth, admin). */
  modules: Elysia<any, any, any, any, any, any, any>[];
}

/** The HTTP surface: webhook ingress, health, metrics, and the route modules given. */
export function createHttpApp(deps: HttpAppDeps) {
  // standardHostname false: Elysia otherwise finds the path by searching for '/' from the 12th
  // character of request.url, assuming a host of at least 4 characters; with `Host: a`,
  // `/app/metrics` would be routed as `/metrics` (past nginx's public /app location). Bun's URLs here
  // are always `http://<host>/…`, so searching from the 8th character is exact.
  let app = new Elysia({ handler: { standardHostname: false } })
    // Every answer, JSON above all: a browser must never sniff one into HTML or script.
    .headers({ "x-content-type-options": "nosniff" })
    .onError(({ code, error, set }) => {
      const res = mapError(String(code), error);
      if (res) return res;
      deps.log.error({ err: error, code }, "unhandled error in a route");
      set.status = 500;
      return errorBody(500, "internal error; see the service log");
    })
    .post(WEBHOOK_PATH, ({ request }) => deps.handleWebhook(request), {
      parse: "none",
      detail: {
        tags: ["telegram"],
        summary: "Telegram webhook (Telegram only)",
        responses: {
          200: { description: "Stored durably (or a duplicate update_id already stored)" },
          400: { description: "Body is not valid JSON, nests deeper than 64 levels, or has no integer update_id" },
          401: { description: "Missing or wrong X-Telegram-Bot-Api-Secret-Token" },
          413: { description: "Body over 1 MiB" },
          415: { description: "Content-Type is not application/json" },
          503: { description: "Storage unavailable; nothing stored (Telegram redelivers)" },
        },
        description:
          "Receives one Update. 200 only after it is committed to disk (also for a duplicate update_id); 401 wrong or missing X-Telegram-Bot-Api-Secret-Token; 400 invalid JSON, nested deeper than 64 levels, or no integer update_id; 413 body over 1 MiB; 415 not application/json; 503 storage unavailable (nothing stored, Telegram redelivers).",
      },
    })
    .get("/healthz", () => ({ ok: true }), { detail: { tags: ["ops"], summary: "Liveness" } })
    .get(
      "/readyz",
      async ({ set }) => {
        const checks = await deps.readiness();
        const ok = checks.every((c) => c.ok);
        if (!ok) set.status = 503;
        return { ok, checks };
      },
      { detail: { tags: ["ops"], summary: "Readiness: database writable, migrations applied, worker alive; with Redis, whether limits are shared (informational)" } },
    )
    .get(
      "/metrics",
      async ({ set }) => {
        await deps.metrics.collectQueue();
        set.headers["content-type"] = deps.metrics.registry.contentType;
        return deps.metrics.registry.metrics();
      },
      { detail: { tags: ["ops"], summary: "Prometheus metrics" } },
    );
  for (const m of deps.modules) app = app.use(m) as typeof app;
  // Fail at start, not under attack, when a route would read a body without the caps.
  const uncapped = uncappedBodyRoutes(app.routes);
  if (uncapped.length > 0) throw new Error(`routes that read a body without src/json-body.ts caps: ${uncapped.join(", ")}`);
  return app;
}
