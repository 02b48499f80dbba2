import { t } from "elysia";
import { JOB_STATES } from "../store/states";
import { NOTIFY_TEXT_MAX } from "../telegram/notifications";

/** Request and response schemas of the admin API: validation and the OpenAPI document in one. */

/**
 * An integer as plain JSON Schema. (Elysia's t.Integer also accepts a numeric string, which shows
 * up in the OpenAPI document as `anyOf [string, integer]`; bodies and answers are real JSON numbers.)
 */
const Int = (opts: Parameters<typeof t.Number>[0] = {}) => t.Number({ multipleOf: 1, ...opts });

const iso = (description: string) => t.String({ format: "date-time", description, example: "2026-11-25T19:00:00.000Z" });
const isoOrNull = (description: string) => t.Union([iso(description), t.Null()]);

export const ErrorBody = t.Object(
  { ok: t.Literal(false), error: t.String({ example: "invalid state: must be one of pending, running, done, discarded, dead" }) },
  { description: "What is wrong, with a hint. Never contains a secret." },
);

// Numbers in the query and path are validated as digit strings: Elysia's number coercion reports
// a failure without the field's name, and every 400 here names its field.
const Limit = t.String({ pattern: "^([1-9]|[1-9][0-9]|[1-4][0-9]{2}|500)$", default: "50", description: "Page size, 1-500", error: "must be an integer from 1 to 500" });
const Cursor = t.String({ pattern: "^[0-9]{1,16}$", description: "nextCursor of the previous page", error: "must be the nextCursor of the previous page" });

const errorResponses = {
  400: { ...ErrorBody, description: "Bad input; the message names the field" },
  401: { ...ErrorBody, description: "No token, or an unknown/revoked one (WWW-Authenticate: Bearer)" },
  403: { ...ErrorBody, description: "The token's role is too low for this route" },
};
export const withErrors = <T extends Record<number, unknown>>(ok: T, extra: Record<number, unknown> = {}) => ({ ...ok, ...errorResponses, ...extra });
export const NotFound = { ...ErrorBody, description: "No such id" };
export const Conflict = { ...ErrorBody, description: "The object is not in a state that allows this" };
export const BadGateway = { ...ErrorBody, description: "Telegram refused the call or could not be reached" };

export const JobState = t.Union(
  // Spelled out so the static type keeps each literal; the unit tests check it against JOB_STATES.
  [t.Literal("pending"), t.Literal("running"), t.Literal("done"), t.Literal("discarded"), t.Literal("dead")],
  {
    description: "Job state: pending → running → done (succeeded) | discarded (permanent error, never retried) | dead (attempts exhausted; an operator may retry); a retry goes back to pending",
    example: "dead",
    error: `must be one of ${JOB_STATES.join(", ")}`,
  },
);
export const RoleSchema = t.Union([t.Literal("viewer"), t.Literal("operator"), t.Literal("admin"), t.Literal("service")], { description: "Role: viewer < operator < admin; service only posts notifications", example: "operator", error: "must be one of viewer, operator, admin, service" });

export const AttemptErrorView = t.Object({ attempt: Int(), at: iso("when it failed"), error: t.String() });

export const JobView = t.Object(
  {
    id: Int({ example: 42 }),
    kind: t.String({ example: "telegram.update" }),
    state: JobState,
    dedupeKey: t.String({ example: "update:123456" }),
    orderKey: t.Union([t.String(), t.Null()], { example: "chat:42" }),
    updateId: t.Union([Int(), t.Null()], { description: "The update_id for telegram.update jobs" }),
    attempts: Int({ example: 10 }),
    maxAttempts: Int({ example: 10 }),
    runAt: iso("earliest next run"),
    createdAt: iso("when it was stored"),
    startedAt: isoOrNull("last claim"),
    finishedAt: isoOrNull("when it ended (done, discarded or dead)"),
    lastError: t.Union([t.String(), t.Null()], { example: "Bad Gateway (502)" }),
    errors: t.Array(AttemptErrorView, { description: "One entry per failed attempt, newest last (bounded)" }),
    payload: t.Optional(t.Unknown({ description: "The stored payload (admin only: it holds user data)" })),
  },
  { description: "A job as operators see it" },
);

export const JobPage = t.Object({
  jobs: t.Array(JobView),
  nextCursor: t.Union([t.String(), t.Null()], { description: "Pass as `cursor` for the next (older) page; null at the end" }),
});

export const JobListQuery = t.Object({
  state: t.Optional(JobState),
  kind: t.Optional(t.String({ minLength: 1, maxLength: 64, example: "notify.send" })),
  limit: t.Optional(Limit),
  cursor: t.Optional(Cursor),
});

export const IdParams = t.Object({
  id: t.String({ pattern: "^[1-9][0-9]{0,15}$", description: "Job id", example: "42", error: "must be a positive integer job id" }),
});
export const UpdateIdParams = t.Object({
  updateId: t.String({ pattern: "^[0-9]{1,16}$", description: "Telegram update_id", example: "123456", error: "must be a non-negative integer update_id" }),
});

export const QueueView = t.Object({
  counts: t.Array(t.Object({ state: JobState, kind: t.String(), count: Int() }), {
    description: "pending, running, discarded and dead jobs by kind; each count stops at countLimit (so the read stays cheap at any backlog)",
    example: [{ state: "pending", kind: "telegram.update", count: 3 }],
  }),
  byState: t.Record(t.String(), Int(), { description: "Totals by state; `done` is doneEstimate", example: { pending: 3, running: 1, done: 120, discarded: 2, dead: 0 } }),
  countLimit: Int({ example: 20000 }),
  doneEstimate: Int({ description: "Done jobs kept until retention prunes them (an upper-bound estimate)", example: 120 }),
  oldestPendingAgeSeconds: t.Number({ example: 0.4 }),
  dead: Int({ example: 0 }),
  worker: t.Object({
    running: t.Boolean(),
    inFlight: Int(),
    lastRoundAt: isoOrNull("last claim round"),
    lastError: t.Union([t.String(), t.Null()]),
  }),
});

export const RetryDeadBody = t.Object({
  limit: t.Optional(Int({ minimum: 1, maximum: 1000, default: 100, description: "At most this many dead jobs (oldest first)" })),
});
export const RetryDeadView = t.Object({
  retried: t.Array(Int()),
  remaining: Int({ description: "Dead jobs left after this batch" }),
});

export const NotificationBody = t.Object({
  chatId: t.Union([Int(), t.String({ pattern: "^(-?[0-9]{1,20}|@[A-Za-z0-9_]{5,32})$" })], {
    description: "Chat id, or @channelusername",
    example: 42,
    error: "must be a chat id (integer) or @channelusername",
  }),
  text: t.String({ minLength: 1, maxLength: NOTIFY_TEXT_MAX, example: "Deployment finished" }),
  parseMode: t.Optional(t.Union([t.Literal("HTML"), t.Literal("MarkdownV2"), t.Literal("Markdown")], { error: "must be HTML, MarkdownV2 or Markdown" })),
  dedupeKey: t.Optional(
    t.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9:._-]+$", description: "Same key → same job (idempotent)", example: "deploy-2026-11-25" }),
  ),
});
export const NotificationAccepted = t.Object({
  jobId: Int({ example: 43 }),
  duplicate: t.Boolean({ description: "true when dedupeKey matched an earlier notification" }),
});

export const WebhookSetBody = t.Object({
  allowedUpdates: t.Optional(
    t.Array(t.String({ pattern: "^[a-z_]{1,40}$" }), { maxItems: 30, example: ["message", "callback_query"], description: "Bot API update types; left out: the current registration's are kept" }),
  ),
  maxConnections: t.Optional(Int({ minimum: 1, maximum: 100, description: "left out: the current registration's is kept (40 for a first registration)" })),
  dropPendingUpdates: t.Optional(t.Boolean({ default: false })),
});
export const WebhookDeleteQuery = t.Object({ dropPendingUpdates: t.Optional(t.BooleanString()) });

export const AccountView = t.Object({
  id: Int(),
  name: t.String({ example: "ci-deploy" }),
  role: RoleSchema,
  createdAt: iso("created"),
  revokedAt: isoOrNull("revoked"),
  lastUsedAt: isoOrNull("last authenticated call (minute granularity)"),
});
export const AccountPage = t.Object({ accounts: t.Array(AccountView), nextCursor: t.Union([t.String(), t.Null()]) });
export const AccountCreateBody = t.Object({
  name: t.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", example: "ci-deploy" }),
  role: RoleSchema,
});
export const AccountCreated = t.Object({
  account: AccountView,
  token: t.String({ description: "The bearer token, shown this once; only its hash is stored", example: "tgwh_…" }),
});
export const NameParams = t.Object({ name: t.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" }) });

export const PageQuery = t.Object({ limit: t.Optional(Limit), cursor: t.Optional(Cursor) });
export const AuditView = t.Object({
  id: Int(),
  at: iso("when"),
  actor: t.String({ example: "account:ops-alice" }),
  action: t.String({ example: "jobs.retry" }),
  target: t.Union([t.String(), t.Null()], { example: "42" }),
  result: t.String({ example: "ok" }),
  detail: t.Union([t.String(), t.Null()]),
});
export const AuditPage = t.Object({ entries: t.Array(AuditView), nextCursor: t.Union([t.String(), t.Null()]) });
