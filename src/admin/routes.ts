import { Elysia, t } from "elysia";
import type { AppContext } from "../app";
import { ConfigError } from "../config";
import { HttpError } from "../http-error";
import { cappedJson, type JsonBodyLimits } from "../json-body";
import { enqueueNotification, type NotificationInput } from "../queue/notify";
import { updateDedupeKey } from "../telegram/updates";
import { createAuditor } from "./audit";
import { createAdminDocs } from "./docs";
import { authorize, undeclaredRoutes, type Caller } from "./rbac";
import * as S from "./schemas";
import { AccountError, createServiceAccounts } from "./service-accounts";
import { accountView, auditView, jobView, nextCursor, queueView } from "./views";
import { deleteWebhook, getWebhookStatus, setWebhook, TelegramCallError, webhookDeps, WebhookInputError } from "./webhook-ops";

const bearer = [{ bearer: [] as string[] }];

/** Admin and internal bodies are small flat objects (a notification's text is the largest part). */
const ADMIN_BODY: JsonBodyLimits = { maxBytes: 64 * 1024, maxDepth: 4 };
const doc = (tag: string, summary: string, description: string) => ({ tags: [tag], summary, description, security: bearer });

/** ConfigError / Telegram failures / account errors → the HTTP status an operator expects. */
function asHttpError(err: unknown): unknown {
  if (err instanceof ConfigError) return new HttpError(409, `server configuration: ${err.message}`);
  if (err instanceof TelegramCallError) return new HttpError(502, err.message);
  if (err instanceof WebhookInputError) return new HttpError(400, err.message);
  if (err instanceof AccountError) return new HttpError(err.kind === "not_found" ? 404 : err.kind === "exists" ? 409 : 400, err.message);
  return err;
}
async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asHttpError(err);
  }
}

/**
 * The admin API and the internal notification endpoint. Every route's role is in rbac.ts; the
 * derive below authenticates and authorises before validation, so a caller without the role
 * learns nothing about the input rules.
 */
export function createAdminRoutes(ctx: AppContext) {
  const accounts = createServiceAccounts(ctx.store.accounts, ctx.clock);
  const auditor = createAuditor(ctx.store.audit, ctx.log, ctx.scrub);
  const { jobs } = ctx.store;
  const hooks = webhookDeps(ctx.cfg);

  const notify = (actor: string, action: string, body: NotificationInput) =>
    auditor.run({ actor, action, target: String(body.chatId), detail: { dedupeKey: body.dedupeKey ?? null, chars: body.text.length } }, async () => {
      const res = await enqueueNotification(ctx, body);
      return { jobId: res.jobId, duplicate: !res.inserted };
    });

  async function authorizeRequest(request: Request, route: string): Promise<Caller> {
    try {
      return await authorize(request.method, route, request.headers.get("authorization"), accounts.authenticate);
    } catch (err) {
      if (err instanceof HttpError && err.status === 403 && request.method !== "GET" && request.method !== "HEAD") {
        const who = request.headers.get("authorization")?.replace(/^Bearer\s+/i, "") ?? "";
        const account = await accounts.authenticate(who);
        await auditor.denied({ actor: account ? `account:${account.name}` : "unknown", action: "denied", target: `${request.method} ${route}` });
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
    .use(createAdminDocs(ctx))
    .derive(async ({ request, route }) => ({ caller: await callerOf(request, route) }))
    .get("/admin/queue", async () => queueView(await jobs.stats(), ctx.worker.status()), {
      response: S.withErrors({ 200: S.QueueView }),
      detail: doc("queue", "Queue overview", "Counts by state and kind, oldest runnable pending job's age, dead count and the worker's status. Role: viewer."),
    })
    .get(
      "/admin/jobs",
      async ({ query, caller }) => {
        const limit = Number(query.limit ?? 50);
        const rows = await jobs.list({ state: query.state, kind: query.kind, limit, cursor: query.cursor ? Number(query.cursor) : undefined });
        return { jobs: rows.map((j) => jobView(j, caller.account?.role === "admin")), nextCursor: nextCursor(rows, limit) };
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
        return jobView(job, caller.account?.role === "admin");
      },
      {
        params: S.IdParams,
        response: S.withErrors({ 200: S.JobView }, { 404: S.NotFound }),
        detail: doc("jobs", "One job", "State, attempts, timestamps, last error and the error history. Payload only for admin. Role: viewer."),
      },
    )
    .post(
      "/admin/jobs/:id/retry",
      ({ params, caller }) =>
        auditor.run({ actor: caller.actor, action: "jobs.retry", target: params.id }, async () => {
          const res = await jobs.retry(Number(params.id));
          if (res.outcome === "not_found") throw new HttpError(404, `no job with id ${params.id}`);
          if (res.outcome === "not_dead") throw new HttpError(409, `job ${params.id} is ${res.state}; only dead jobs can be retried`);
          ctx.worker.wake();
          return jobView(res.job, caller.account?.role === "admin");
        }),
      {
        parse: "none",
        params: S.IdParams,
        response: S.withErrors({ 200: S.JobView }, { 404: S.NotFound, 409: S.Conflict }),
        detail: doc("jobs", "Retry a dead job", "Moves a dead job back to pending with its attempts reset. A job of an ordered chain waits for its chain's running job first. Audited. Role: operator."),
      },
    )
    .post(
      "/admin/jobs/retry-dead",
      ({ body, caller }) =>
        auditor.run({ actor: caller.actor, action: "jobs.retry_dead", detail: { limit: body?.limit ?? 100 } }, async () => {
          const res = await jobs.retryDead(body?.limit ?? 100);
          if (res.retried.length > 0) ctx.worker.wake();
          return res;
        }),
      {
        parse: optionalJsonBody,
        body: t.Optional(S.RetryDeadBody),
        response: S.withErrors({ 200: S.RetryDeadView }),
        detail: doc("jobs", "Retry dead jobs (bounded batch)", "Retries the oldest dead jobs, at most `limit` (default 100, max 1000) per call; `remaining` says how many are left. Audited. Role: operator."),
      },
    )
    .get(
      "/admin/updates/:updateId",
      async ({ params, caller }) => {
        const job = await jobs.byDedupeKey(updateDedupeKey(Number(params.updateId)));
        if (!job) throw new HttpError(404, `no stored update with update_id ${params.updateId} (never received, or pruned after the retention window)`);
        return jobView(job, caller.account?.role === "admin");
      },
      {
        params: S.UpdateIdParams,
        response: S.withErrors({ 200: S.JobView }, { 404: S.NotFound }),
        detail: doc("jobs", "A stored Telegram update by update_id", "The update's job: state, attempts, timestamps, last_error. The update itself (payload) only for admin: it holds user data. Role: viewer."),
      },
    )
    .get(
      "/admin/webhook",
      () =>
        mapped(async () => {
          const snap = await jobs.stats();
          const pending = snap.byStateKind.filter((c) => c.state === "pending").reduce((n, c) => n + c.count, 0);
          return {
            ...(await getWebhookStatus(hooks)),
            local: {
              secretConfigured: ctx.cfg.webhookSecret !== null,
              secretRotationActive: ctx.cfg.webhookSecretOld !== null,
              pendingJobs: pending,
              oldestPendingAgeSeconds: snap.oldestPendingAgeSeconds,
            },
          };
        }),
      {
        detail: doc("webhook", "Webhook status", "Telegram's getWebhookInfo beside local figures (expected URL, whether it matches, queue backlog). Never shows the secret. Role: viewer."),
        response: S.withErrors({}, { 502: S.BadGateway }),
      },
    )
    .post(
      "/admin/webhook",
      ({ body, caller }) =>
        auditor.run({ actor: caller.actor, action: "webhook.set", detail: { ...body } }, () => mapped(() => setWebhook(hooks, body ?? {}))),
      {
        parse: optionalJsonBody,
        body: t.Optional(S.WebhookSetBody),
        response: S.withErrors({}, { 409: S.Conflict, 502: S.BadGateway }),
        detail: doc("webhook", "Set the webhook", "setWebhook to TGWH_PUBLIC_URL + /telegram/webhook with the current secret token, allowed_updates, max_connections and drop_pending_updates. Audited. Role: operator."),
      },
    )
    .delete(
      "/admin/webhook",
      ({ query, caller }) =>
        auditor.run({ actor: caller.actor, action: "webhook.delete", detail: { dropPendingUpdates: query.dropPendingUpdates ?? false } }, () =>
          mapped(() => deleteWebhook(hooks, { dropPendingUpdates: query.dropPendingUpdates ?? false })),
        ),
      {
        parse: "none",
        query: S.WebhookDeleteQuery,
        response: S.withErrors({}, { 502: S.BadGateway }),
        detail: doc("webhook", "Delete the webhook", "deleteWebhook; `dropPendingUpdates=true` also drops what Telegram still holds. Audited. Role: operator."),
      },
    )
    .post(
      "/admin/notifications",
      async ({ body, caller, set }) => {
        set.status = 202;
        return notify(caller.actor, "notifications.send", body);
      },
      {
        parse: jsonBody,
        body: S.NotificationBody,
        response: S.withErrors({ 202: S.NotificationAccepted }),
        detail: doc("notifications", "Queue a notification", "Queues sendMessage as a durable job (Telegram's send limits apply; one chat's messages go in order). `dedupeKey` makes it idempotent. Audited. Role: operator."),
      },
    )
    .post(
      "/internal/notifications",
      async ({ body, caller, set }) => {
        set.status = 202;
        return notify(caller.actor, "internal.notifications.send", body);
      },
      {
        parse: jsonBody,
        body: S.NotificationBody,
        response: S.withErrors({ 202: S.NotificationAccepted }),
        detail: doc("internal", "Queue a notification (services)", "The same as POST /admin/notifications for other services. Only role `service` may call it. Audited."),
      },
    )
    .get(
      "/admin/service-accounts",
      async ({ query }) => {
        const limit = Number(query.limit ?? 50);
        const rows = await accounts.list(limit, query.cursor ? Number(query.cursor) : 0);
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
      ({ body, caller, set }) =>
        auditor.run({ actor: caller.actor, action: "service_accounts.create", target: body.name, detail: { role: body.role } }, () =>
          mapped(async () => {
            const { account, token } = await accounts.create(body.name, body.role);
            set.status = 201;
            return { account: accountView(account), token };
          }),
        ),
      {
        parse: jsonBody,
        body: S.AccountCreateBody,
        response: S.withErrors({ 201: S.AccountCreated }, { 409: S.Conflict }),
        detail: doc("service-accounts", "Create a service account", "Returns its bearer token this once; only a SHA-256 hash is stored. Audited. Role: admin."),
      },
    )
    .delete(
      "/admin/service-accounts/:name",
      ({ params, caller }) =>
        auditor.run({ actor: caller.actor, action: "service_accounts.revoke", target: params.name }, () =>
          mapped(async () => accountView(await accounts.revoke(params.name))),
        ),
      {
        parse: "none",
        params: S.NameParams,
        response: S.withErrors({ 200: S.AccountView }, { 404: S.NotFound }),
        detail: doc("service-accounts", "Revoke a service account", "Its token stops working at once. Idempotent. Audited. Role: admin."),
      },
    )
    .get(
      "/admin/audit",
      async ({ query }) => {
        const limit = Number(query.limit ?? 50);
        const rows = await ctx.store.audit.page(limit, query.cursor ? Number(query.cursor) : null);
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
