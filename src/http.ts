import { Elysia } from "elysia";
import type { AppContext } from "./app";
import { checkReadiness } from "./health";
import { errorResponse as errorBody, HttpError } from "./http-error";
import { uncappedBodyRoutes } from "./json-body";
import { createWebhookHandler, WEBHOOK_PATH } from "./telegram/webhook";

/** Elysia's own errors (validation, parse, not found) in the same `{ok:false, error}` shape. */
function mapError(code: string | number, error: unknown): Response | undefined {
  if (error instanceof HttpError) return errorBody(error.status, error.message, error.headers);
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

/** The webhook ingress handler of this context (serve.ts also mounts it straight on Bun.serve). */
export function createWebhookFor(ctx: AppContext): (req: Request) => Promise<Response> {
  return createWebhookHandler({
    acceptedSecrets: ctx.acceptedSecrets,
    enqueue: (jobs) => ctx.store.jobs.insert(jobs),
    onStored: () => ctx.worker.wake(),
    log: ctx.log.child({ component: "webhook" }),
    metrics: ctx.metrics,
    maxAttempts: ctx.cfg.updateMaxAttempts,
    clock: ctx.clock,
    load: ctx.ingress,
  });
}

/** The HTTP surface: webhook ingress, health, metrics, and the route modules given. */
export function createHttpApp(
  ctx: AppContext,
  modules: Elysia<any, any, any, any, any, any, any>[] = [],
  handleWebhook: (req: Request) => Promise<Response> = createWebhookFor(ctx),
) {
  const staleAfterMs = 15_000;

  // standardHostname false: Elysia otherwise finds the path by searching for '/' from the 12th
  // character of request.url, assuming a host of at least 4 characters; with `Host: a`,
  // `/app/metrics` was routed as `/metrics` (past nginx's public /app location). Bun's URLs here
  // are always `http://<host>/…`, so searching from the 8th character is exact.
  let app = new Elysia({ handler: { standardHostname: false } })
    // Every answer, JSON above all: a browser must never sniff one into HTML or script.
    .headers({ "x-content-type-options": "nosniff" })
    .onError(({ code, error, set }) => {
      const res = mapError(String(code), error);
      if (res) return res;
      ctx.log.error({ err: error, code }, "unhandled error in a route");
      set.status = 500;
      return errorBody(500, "internal error; see the service log");
    })
    .post(WEBHOOK_PATH, ({ request }) => handleWebhook(request), {
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
        const checks = await checkReadiness(ctx.store.health, ctx.worker.status(), staleAfterMs, ctx.clock());
        // Always ok: without Redis sending goes on with conservative local limits (limits/redis-link.ts).
        const limits = ctx.limits.readiness();
        if (limits) checks.push(limits);
        const ok = checks.every((c) => c.ok);
        if (!ok) set.status = 503;
        return { ok, checks };
      },
      { detail: { tags: ["ops"], summary: "Readiness: database writable, migrations applied, worker alive; with Redis, whether limits are shared (informational)" } },
    )
    .get(
      "/metrics",
      async ({ set }) => {
        await ctx.metrics.collectQueue();
        set.headers["content-type"] = ctx.metrics.registry.contentType;
        return ctx.metrics.registry.metrics();
      },
      { detail: { tags: ["ops"], summary: "Prometheus metrics" } },
    );
  for (const m of modules) app = app.use(m) as typeof app;
  // Fail at start, not under attack, when a route would read a body without the caps.
  const uncapped = uncappedBodyRoutes(app.routes);
  if (uncapped.length > 0) throw new Error(`routes that read a body without src/json-body.ts caps: ${uncapped.join(", ")}`);
  return app;
}
