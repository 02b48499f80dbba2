import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { JOB_STATES, ROLES } from "../states";

/**
 * The SQLite schema (drizzle-kit generates sqlite/migrations/ from it: `make migrations`).
 * Times are integer unix milliseconds. The row types of the whole service are inferred from these
 * tables (store/rows.ts); a PostgreSQL schema (pg-core: the same table and column names, bigint
 * times and ids in number mode, bigserial ids, boolean is_premium, integer ready) infers the same
 * types, so callers never see which engine runs. Job states and roles: store/states.ts.
 */

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
    /**
     * The job this one waits for in its chain, when chains are kept as linked lists (job_chains
     * holds each chain's tail; chain-order.ts). Null for a head and in the index mode.
     */
    prevId: integer("prev_id"),
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
    // Chain successor lookup and "is anything of this chain unfinished?" in the index mode. A
    // database in the list mode has dropped it (chain-order.ts): its writes were the cost per job.
    index("jobs_chain").on(t.orderKey, t.seq, t.id).where(sql`state IN ('pending', 'running') AND order_key IS NOT NULL`),
    // Expired leases.
    index("jobs_lease").on(t.leaseUntil).where(sql`state = 'running'`),
    // Admin listing and stats by state.
    index("jobs_state_kind").on(t.state, t.kind, t.id),
    // Retention: finished jobs (done, discarded) by finish time. Written as OR, not IN: SQLite then
    // still plans a query that names only `state = 'done'` on it (the previous release's pruner).
    index("jobs_finished").on(t.finishedAt).where(sql`state = 'done' OR state = 'discarded'`),
    // The list mode's hand-over: the waiting job whose predecessor just finished. Its keys are
    // recent job ids, so its writes land near the right edge (one leaf), unlike jobs_chain's.
    index("jobs_next").on(t.prevId).where(sql`prev_id IS NOT NULL AND state = 'pending'`),
  ],
);

/**
 * One row per chain with unfinished jobs in the list mode (chain-order.ts): the chain's newest
 * job, which a new job of the chain links to. Sized by busy chats, not by the backlog. WITHOUT
 * ROWID (added by hand to its migration, drizzle has no word for it): the key is the row.
 */
export const jobChains = sqliteTable(
  "job_chains",
  {
    orderKey: text("order_key").primaryKey(),
    tailId: integer("tail_id").notNull(),
    tailSeq: integer("tail_seq").notNull(),
  },
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
 * Expired rows are pruned (retention). Store group: InitDataReplayStore.
 */
export const initDataReplays = sqliteTable(
  "init_data_replays",
  {
    hash: text("hash").primaryKey(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("init_data_replays_expires").on(t.expiresAt)],
);
