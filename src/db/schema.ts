import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * Job states (who moves a job out of each one, and when it goes away):
 * - pending: waiting for run_at and, when it has an order_key, for its turn (`ready = 1`).
 *   The worker's claim moves it to running.
 * - running: leased by lease_owner until lease_until. The worker that holds the lease moves it to
 *   done, back to pending (retry) or to dead. When the lease expires (crash, kill -9) the next
 *   claim round moves it back to pending, or to dead when its attempts are used up.
 * - done: finished, successfully or with a permanent error kept in last_error. Never run again.
 *   Pruned by retention after the window (default 7 days, never under 24 h).
 * - dead: attempts exhausted; last_error and errors keep why. An operator's retry moves it back
 *   to pending. Kept until an operator acts.
 */
export const JOB_STATES = ["pending", "running", "done", "dead"] as const;
export type JobState = (typeof JOB_STATES)[number];

export const jobs = sqliteTable(
  "jobs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    kind: text("kind").notNull(),
    dedupeKey: text("dedupe_key").notNull(),
    /** Jobs sharing an order_key run one at a time in (seq, id) order; null runs freely. */
    orderKey: text("order_key"),
    /** Position inside the order_key chain: the update_id for updates. */
    seq: integer("seq").notNull().default(0),
    /** 1 when this job is the head of its chain (or has no chain) and may be claimed. */
    ready: integer("ready").notNull().default(1),
    payload: text("payload").notNull(),
    state: text("state", { enum: JOB_STATES }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull(),
    runAt: integer("run_at").notNull(),
    leaseUntil: integer("lease_until"),
    leaseOwner: text("lease_owner"),
    lastError: text("last_error"),
    /** JSON array of {attempt, at, error}: one entry per failed attempt, newest last (bounded). */
    errors: text("errors"),
    createdAt: integer("created_at").notNull(),
    startedAt: integer("started_at"),
    finishedAt: integer("finished_at"),
  },
  (t) => [
    uniqueIndex("jobs_dedupe_key").on(t.dedupeKey),
    // Claim: the next ready pending job by run_at, O(log n) whatever the backlog.
    index("jobs_claim").on(t.runAt, t.id).where(sql`state = 'pending' AND ready = 1`),
    // Chain successor lookup and "is anything of this chain unfinished?".
    index("jobs_chain").on(t.orderKey, t.seq, t.id).where(sql`state IN ('pending', 'running') AND order_key IS NOT NULL`),
    // Expired leases.
    index("jobs_lease").on(t.leaseUntil).where(sql`state = 'running'`),
    // Admin listing and stats by state.
    index("jobs_state_kind").on(t.state, t.kind, t.id),
    // Retention: done jobs by finish time.
    index("jobs_finished").on(t.finishedAt).where(sql`state = 'done'`),
  ],
);

export const users = sqliteTable("users", {
  telegramId: integer("telegram_id").primaryKey(),
  firstName: text("first_name").notNull(),
  lastName: text("last_name"),
  username: text("username"),
  languageCode: text("language_code"),
  isPremium: integer("is_premium", { mode: "boolean" }).notNull().default(false),
  photoUrl: text("photo_url"),
  firstSeen: integer("first_seen").notNull(),
  lastSeen: integer("last_seen").notNull(),
});

export const ROLES = ["viewer", "operator", "admin", "service"] as const;
export type Role = (typeof ROLES)[number];

export const serviceAccounts = sqliteTable(
  "service_accounts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    role: text("role", { enum: ROLES }).notNull(),
    tokenHash: text("token_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    revokedAt: integer("revoked_at"),
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [uniqueIndex("service_accounts_name").on(t.name), uniqueIndex("service_accounts_token_hash").on(t.tokenHash)],
);

export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    target: text("target"),
    result: text("result").notNull(),
    detail: text("detail"),
    at: integer("at").notNull(),
  },
  (t) => [index("audit_log_at").on(t.at)],
);

/** Small durable key/value settings: cached getMe, generated session secret, dev secrets. */
export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * initData already used to sign in, by its `hash`, until that initData expires: a second
 * sign-in with the same initData is refused (replay), on every gateway sharing the database.
 * Expired rows are pruned. SQL: src/db/init-data-replays.ts.
 */
export const initDataReplays = sqliteTable(
  "init_data_replays",
  {
    hash: text("hash").primaryKey(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("init_data_replays_expires").on(t.expiresAt)],
);
