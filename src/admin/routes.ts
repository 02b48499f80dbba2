import { Elysia, t } from "elysia";
import { HttpError } from "../http-error";
import { cappedJson, type JsonBodyLimits } from "../json-body";
import type { Operations } from "../operations";
import { getWebhookStatus, type WebhookOpsDeps } from "../operations/telegram-webhook";
import type { WorkerStatus } from "../queue/worker";
import type { AuditStore, JobStore } from "../store/types";
import type { NotificationInput } from "../telegram/notifications";
import { updateDedupeKey } from "../telegram/updates";
import { createAdminDocs } from "./docs";
import { authorize, undeclaredRoutes, type Caller } from "./rbac";
import * as S from "./schemas";
import { accountView, auditView, jobView, nextCursor, queueView } from "./views";

const bearer = [{ bearer: [] as string[] }];

/** Admin and internal bodies are small flat objects (a notification's text is the largest part). */
const ADMIN_BODY: JsonBodyLimits = { maxBytes: 64 * 1024, maxDepth: 4 };
const doc = (tag: string, summary: string, description: string) => ({ tags: [tag], summary, description, security: bearer });

export interface AdminRouteDeps {
  /** The audited actions; their failures become statuses in http.ts. Also authenticates tokens. */
  operations: Operations;
  /** The reads: nothing here writes except through `operations`. */
  jobs: Pick<JobStore, "list" | "byId" | "byDedupeKey" | "stats">;
  audit: Pick<AuditStore, "page">;
  workerStatus: () => WorkerStatus;
  /** For GET /admin/webhook: Telegram's view, and whether a secret (rotation) is configured here. */
  webhook: { telegram: WebhookOpsDeps; secretConfigured: boolean; secretRotationActive: boolean };
}

/**
 * The admin API and the internal notification endpoint. Every route's role is in rbac.ts; the
 * derive below authenticates and authorises before validation, so a caller without the role
 * learns nothing about the input rules. Writes are the operations' (operations/): a route reads
 * its input, calls one, and shapes the answer.
 */
export function createAdminRoutes(deps: AdminRouteDeps) {
  const { operations: ops, jobs } = deps;
  const payloadFor = (caller: Caller) => caller.account?.role === "admin";

  /** Both notification routes: the same operation, told apart in the audit log by the caller. */
  const queueNotification = async ({ body, caller, set }: { body: NotificationInput; caller: Caller; set: { status?: number | string } }) => {
    set.status = 202;
    return ops.queueNotification(caller.actor, body);
  };

  async function authorizeRequest(request: Request, route: string): Promise<Caller> {
    try {
      return await authorize(request.method, route, request.headers.get("authorization"), ops.accounts.authenticate);
    } catch (err) {
      if (err instanceof HttpError && err.status === 403 && request.method !== "GET" && request.method !== "HEAD") {
        const who = request.headers.get("authorization")?.replace(/^Bearer\s+/i, "") ?? "";
        const account = await ops.accounts.authenticate(who);
        await ops.auditor.denied({ actor: account ? `account:${account.name}` : "unknown", target: `${request.method} ${route}` });
      }
      throw err;
    }
  }
  // Once per request: a body route checks the token in its parse hook, before reading the body;
  // the derive below then finds the answer here instead of checking (and auditing) twice.
  const callers = new WeakMap<Request, Promise<Caller>>();
  const callerOf = (request: Request, route: string): Promise<Caller> => {
    let caller = callers.get(request);
    if (!caller) callers.set(request, (caller = authorizeRequest(request, route)));
    return caller;
  };
  const tokenFirst = { before: ({ request, route }: { request: Request; route: string }) => callerOf(request, route) };
  const jsonBody = cappedJson(ADMIN_BODY, tokenFirst);
  const optionalJsonBody = cappedJson(ADMIN_BODY, { ...tokenFirst, optional: true });

  const app = new Elysia({ name: "tgwh-admin" })
    .use(createAdminDocs())
    .derive(async ({ request, route }) => ({ caller: await callerOf(request, route) }))
    .get("/admin/queue", async () => queueView(await jobs.stats(), deps.workerStatus()), {
      response: S.withErrors({ 200: S.QueueView }),
      detail: doc("queue", "Queue overview", "Counts by state and kind, oldest runnable pending job's age, dead count and the worker's status. Role: viewer."),
    })
    .get(
      "/admin/jobs",
      async ({ query, caller }) => {
        const limit = Number(query.limit ?? 50);
        const rows = await jobs.list({ state: query.state, kind: query.kind, limit, cursor: query.cursor ? Number(query.cursor) : undefined });
        return { jobs: rows.map((j) => jobView(j, payloadFor(caller))), nextCursor: nextCursor(rows, limit) };
      },
      {
        query: S.JobListQuery,
        response: S.withErrors({ 200: S.JobPage }),
        detail: doc("jobs", "List jobs", "Newest first, filtered by state and kind, paged with `cursor` (the previous page's nextCursor). Payloads only for admin. Role: viewer."),
      },
    )
    .get(
      "/admin/jobs/:id",
      async ({ params, caller }) => {
        const job = await jobs.byId(Number(params.id));
        if (!job) throw new HttpError(404, `no job with id ${params.id}`);
        return jobView(job, payloadFor(caller));
      },
      {
        params: S.IdParams,
        response: S.withErrors({ 200: S.JobView }, { 404: S.NotFound }),
        detail: doc("jobs", "One job", "State, attempts, timestamps, last error and the error history. Payload only for admin. Role: viewer."),
      },
    )
    .post("/admin/jobs/:id/retry", async ({ params, caller }) => jobView(await ops.retryJob(caller.actor, Number(params.id)), payloadFor(caller)), {
      parse: "none",
      params: S.IdParams,
      response: S.withErrors({ 200: S.JobView }, { 404: S.NotFound, 409: S.Conflict }),
      detail: doc("jobs", "Retry a dead job", "Moves a dead job back to pending with its attempts reset. A job of an ordered chain waits for its chain's running job first. Audited. Role: operator."),
    })
    .post("/admin/jobs/retry-dead", ({ body, caller }) => ops.retryDeadJobs(caller.actor, body?.limit ?? 100), {
      parse: optionalJsonBody,
      body: t.Optional(S.RetryDeadBody),
      response: S.withErrors({ 200: S.RetryDeadView }),
      detail: doc("jobs", "Retry dead jobs (bounded batch)", "Retries the oldest dead jobs, at most `limit` (default 100, max 1000) per call; `remaining` says how many are left. Audited. Role: operator."),
    })
    .get(
      "/admin/updates/:updateId",
      async ({ params, caller }) => {
        const job = await jobs.byDedupeKey(updateDedupeKey(Number(params.updateId)));
        if (!job) throw new HttpError(404, `no stored update with update_id ${params.updateId} (never received, or pruned after the retention window)`);
        return jobView(job, payloadFor(caller));
      },
      {
        params: S.UpdateIdParams,
        response: S.withErrors({ 200: S.JobView }, { 404: S.NotFound }),
        detail: doc("jobs", "A stored Telegram update by update_id", "The update's job: state, attempts, timestamps, last_error. The update itself (payload) only for admin: it holds user data. Role: viewer."),
      },
    )
    .get(
      "/admin/webhook",
      async () => {
        const [telegram, snap] = await Promise.all([getWebhookStatus(deps.webhook.telegram), jobs.stats()]);
        const pending = snap.byStateKind.filter((c) => c.state === "pending").reduce((n, c) => n + c.count, 0);
        return {
          ...telegram,
          local: {
            secretConfigured: deps.webhook.secretConfigured,
            secretRotationActive: deps.webhook.secretRotationActive,
            pendingJobs: pending,
            oldestPendingAgeSeconds: snap.oldestPendingAgeSeconds,
          },
        };
      },
      {
        detail: doc("webhook", "Webhook status", "Telegram's getWebhookInfo beside local figures (expected URL, whether it matches, queue backlog). Never shows the secret. Role: viewer."),
        response: S.withErrors({}, { 502: S.BadGateway }),
      },
    )
    .post("/admin/webhook", ({ body, caller }) => ops.setWebhook(caller.actor, body ?? {}), {
      parse: optionalJsonBody,
      body: t.Optional(S.WebhookSetBody),
      response: S.withErrors({}, { 409: S.Conflict, 502: S.BadGateway }),
      detail: doc("webhook", "Set the webhook", "setWebhook to TGWH_PUBLIC_URL + /telegram/webhook with the current secret token, allowed_updates, max_connections and drop_pending_updates. Audited. Role: operator."),
    })
    .delete("/admin/webhook", ({ query, caller }) => ops.deleteWebhook(caller.actor, { dropPendingUpdates: query.dropPendingUpdates ?? false }), {
      parse: "none",
      query: S.WebhookDeleteQuery,
      response: S.withErrors({}, { 502: S.BadGateway }),
      detail: doc("webhook", "Delete the webhook", "deleteWebhook; `dropPendingUpdates=true` also drops what Telegram still holds. Audited. Role: operator."),
    })
    .post("/admin/notifications", queueNotification, {
      parse: jsonBody,
      body: S.NotificationBody,
      response: S.withErrors({ 202: S.NotificationAccepted }),
      detail: doc("notifications", "Queue a notification", "Queues sendMessage as a durable job (Telegram's send limits apply; one chat's messages go in order). `dedupeKey` makes it idempotent. Audited. Role: operator."),
    })
    .post("/internal/notifications", queueNotification, {
      parse: jsonBody,
      body: S.NotificationBody,
      response: S.withErrors({ 202: S.NotificationAccepted }),
      detail: doc("internal", "Queue a notification (services)", "The same as POST /admin/notifications for other services. Only role `service` may call it. Audited."),
    })
    .get(
      "/admin/service-accounts",
      async ({ query }) => {
        const limit = Number(query.limit ?? 50);
        const rows = await ops.accounts.list(limit, query.cursor ? Number(query.cursor) : 0);
        return { accounts: rows.map(accountView), nextCursor: nextCursor(rows, limit) };
      },
      {
        query: S.PageQuery,
        response: S.withErrors({ 200: S.AccountPage }),
        detail: doc("service-accounts", "List service accounts", "Names, roles and times; never a token or its hash. Role: admin."),
      },
    )
    .post(
      "/admin/service-accounts",
      async ({ body, caller, set }) => {
        const { account, token } = await ops.createAccount(caller.actor, body);
        set.status = 201;
        return { account: accountView(account), token };
      },
      {
        parse: jsonBody,
        body: S.AccountCreateBody,
        response: S.withErrors({ 201: S.AccountCreated }, { 409: S.Conflict }),
        detail: doc("service-accounts", "Create a service account", "Returns its bearer token this once; only a SHA-256 hash is stored. Audited. Role: admin."),
      },
    )
    .delete("/admin/service-accounts/:name", async ({ params, caller }) => accountView((await ops.revokeAccount(caller.actor, params.name)).account), {
      parse: "none",
      params: S.NameParams,
      response: S.withErrors({ 200: S.AccountView }, { 404: S.NotFound }),
      detail: doc("service-accounts", "Revoke a service account", "Its token stops working at once. Idempotent. Audited. Role: admin."),
    })
    .get(
      "/admin/audit",
      async ({ query }) => {
        const limit = Number(query.limit ?? 50);
        const rows = await deps.audit.page(limit, query.cursor ? Number(query.cursor) : null);
        return { entries: rows.map(auditView), nextCursor: nextCursor(rows, limit) };
      },
      {
        query: S.PageQuery,
        response: S.withErrors({ 200: S.AuditPage }),
        detail: doc("audit", "Audit log", "Every mutating admin/internal call and CLI command, newest first, paged with `cursor`. Role: admin."),
      },
    );

  // Fail at start, not in production traffic, when a route was added without a role.
  const missing = undeclaredRoutes(app.routes.map((r) => ({ method: r.method, path: r.path })));
  if (missing.length > 0) throw new Error(`admin routes without a declared role in src/admin/rbac.ts: ${missing.join(", ")}`);
  return app;
}
