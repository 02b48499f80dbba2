import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, index, integer, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { JOB_STATES, ROLES } from "../states";

/**
 * The PostgreSQL schema (drizzle-kit generates postgres/migrations/ from it: `make migrations`).
 * Same tables, columns and indexes as sqlite/schema.ts, typed so that every row type drizzle
 * infers is identical to SQLite's (test/store/postgres-schema.test.ts pins it):
 * - ids and times are int8 in number mode (bigserial / bigint): unix milliseconds and ids stay
 *   far below 2^53, and callers get a number, as from SQLite;
 * - `ready`, attempts and max_attempts stay int4, is_premium a boolean;
 * - state and role are text with drizzle's enum typing, not pgEnum: a new state is then a plain
 *   data change in both engines (as `discarded` was), with no ALTER TYPE.
 * The partial indexes name states as SQL literals, and the queries in this folder repeat them
 * literally: PostgreSQL only uses a partial index when it can prove the query's WHERE implies
 * the index's, and a parameter ($1 = 'pending') proves nothing under a generic plan.
 */

export const jobs = pgTable(
  "jobs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    kind: text("kind").notNull(),
    dedupeKey: text("dedupe_key").notNull(),
    /** Jobs sharing an order_key run one at a time in (seq, id) order; null runs freely. */
    orderKey: text("order_key"),
    /** Position inside the order_key chain: the update_id for updates. */
    seq: bigint("seq", { mode: "number" }).notNull().default(0),
    /** 1 when this job is the head of its chain (or has no chain) and may be claimed. */
    ready: integer("ready").notNull().default(1),
    payload: text("payload").notNull(),
    state: text("state", { enum: JOB_STATES }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull(),
    runAt: bigint("run_at", { mode: "number" }).notNull(),
    leaseUntil: bigint("lease_until", { mode: "number" }),
    leaseOwner: text("lease_owner"),
    lastError: text("last_error"),
    /** JSON array of {attempt, at, error}: one entry per failed attempt, newest last (bounded). */
    errors: text("errors"),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    startedAt: bigint("started_at", { mode: "number" }),
    finishedAt: bigint("finished_at", { mode: "number" }),
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
    // Retention: finished jobs (done, discarded) by finish time.
    index("jobs_finished").on(t.finishedAt).where(sql`state IN ('done', 'discarded')`),
  ],
);

export const users = pgTable("users", {
  telegramId: bigint("telegram_id", { mode: "number" }).primaryKey(),
  firstName: text("first_name").notNull(),
  lastName: text("last_name"),
  username: text("username"),
  languageCode: text("language_code"),
  isPremium: boolean("is_premium").notNull().default(false),
  photoUrl: text("photo_url"),
  firstSeen: bigint("first_seen", { mode: "number" }).notNull(),
  lastSeen: bigint("last_seen", { mode: "number" }).notNull(),
});

export const serviceAccounts = pgTable(
  "service_accounts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    name: text("name").notNull(),
    role: text("role", { enum: ROLES }).notNull(),
    tokenHash: text("token_hash").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    revokedAt: bigint("revoked_at", { mode: "number" }),
    lastUsedAt: bigint("last_used_at", { mode: "number" }),
  },
  (t) => [uniqueIndex("service_accounts_name").on(t.name), uniqueIndex("service_accounts_token_hash").on(t.tokenHash)],
);

export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    target: text("target"),
    result: text("result").notNull(),
    detail: text("detail"),
    at: bigint("at", { mode: "number" }).notNull(),
  },
  (t) => [index("audit_log_at").on(t.at)],
);

/** Small durable key/value settings: cached getMe, generated session secret, dev secrets. */
export const settings = pgTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
});

/**
 * initData already used to sign in, by its `hash`, until that initData expires: a second sign-in
 * with it is refused (a replay) on every gateway. Expired rows are pruned.
 */
export const initDataReplays = pgTable(
  "init_data_replays",
  {
    hash: text("hash").primaryKey(),
    expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
  },
  (t) => [index("init_data_replays_expires").on(t.expiresAt)],
);
