import { ConfigError } from "../config";
import type { MigrationStatus } from "./migration-types";
import type { AuditRow, Job, ServiceAccount, User } from "./rows";
import type { JobState, Role } from "./states";

/**
 * THE store: every SQL statement of tgwh runs behind this interface. One implementation per
 * engine (sqlite/, postgres/) and one contract test suite (test/store/contract.ts)
 * that every implementation passes. Callers (ingress, worker, admin, auth, CLI, metrics) never see
 * which engine runs.
 *
 * Rules every implementation keeps:
 * - Every method is async. A write resolves only once it is committed and durable (SQLite: the
 *   group commit's WAL fsync; PostgreSQL: COMMIT with synchronous_commit on). A rejected write
 *   changed nothing.
 * - Times are unix milliseconds, given by the caller or read from the store's injected clock;
 *   never the database server's clock, so tests control time. Across gateways this means one
 *   gateway's lease_until and run_at are compared with another's clock: their clocks must agree
 *   to well inside a lease (NTP; `tgwh doctor` checks the clock against Telegram's).
 * - Each method is atomic on its own: nothing a caller does needs a transaction across calls.
 *
 * Engine notes for PostgreSQL, per method below where they matter. The one design point
 * they share: per-chat order across gateways rests on the `ready` chain-head flag (job-rules.ts),
 * which is only correct if, for one order_key, "look at the chain, then insert or hand the turn
 * on" never interleaves with another such step. SQLite gets that for free (one writer). PostgreSQL
 * takes `pg_advisory_xact_lock(hashtextextended(order_key, 0))` for each distinct order_key a
 * transaction touches, in sorted order (no deadlocks), before reading the chain: insert (chain
 * busy?), finish/dead/expired lease (advance the chain) and retry-dead (chain busy?). Without the
 * lock, an insert that sees the head running (ready = 0) can commit after the head's finish looked
 * for a successor and found none: the chain would wait forever.
 */
export interface Store {
  readonly engine: "sqlite" | "postgres";
  /** Where the data lives, for logs and messages: a file path (never a password-bearing URL). */
  readonly location: string;
  readonly jobs: JobStore;
  readonly users: UserStore;
  readonly accounts: AccountStore;
  readonly audit: AuditStore;
  readonly settings: SettingStore;
  readonly initDataReplays: InitDataReplayStore;
  readonly health: StoreHealth;
  /**
   * Applies the embedded migrations not yet applied; returns their tags. Safe when several
   * processes start together (SQLite: one IMMEDIATE transaction; PostgreSQL: under an advisory
   * lock, each migration in its transaction).
   */
  migrate(): Promise<string[]>;
  /**
   * How per-chat order is kept: "index" (the jobs_chain index; PostgreSQL, and SQLite files made
   * before 0003) or "list" (linked lists, SQLite; store/sqlite/chains/chain-order.ts).
   */
  chainMode(): Promise<"index" | "list">;
  /**
   * Moves a SQLite database to that mode (`tgwh migrate --chain-list | --chain-index`): true when
   * this call moved it, false when it was there already. PostgreSQL keeps the index: asked for the
   * lists, it throws an Error saying so.
   */
  setChainMode(mode: "index" | "list"): Promise<boolean>;
  /**
   * A consistent online copy of the store (SQLite: VACUUM INTO a new file, checked). An engine
   * with its own tools (PostgreSQL: pg_dump) throws an Error that names them.
   */
  backup(target: string): Promise<BackupResult>;
  /** Makes every queued write durable, then closes the connections. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// jobs

export type JobKind = "telegram.update" | "notify.send" | (string & {});

export interface NewJob {
  kind: JobKind;
  /** Unique for the lifetime of the row (e.g. `update:123`): a second insert is a duplicate. */
  dedupeKey: string;
  /** Jobs sharing an order_key run one at a time in (seq, id) order; null runs freely. */
  orderKey: string | null;
  /** Position in the order_key chain (update_id for updates); jobs without one use 0 and run by id. */
  seq: number;
  payload: string;
  maxAttempts: number;
  runAt: number;
}

export interface InsertResult {
  id: number;
  /** false: the dedupe_key existed (whatever its state), and id is that job's. */
  inserted: boolean;
}

export interface ClaimOptions {
  /** This process's lease owner name: `${TGWH_INSTANCE_ID}/${pid}-${random}`. */
  owner: string;
  leaseMs: number;
  /**
   * At most this many jobs. A function is read at the moment the claim runs (SQLite: inside the
   * group commit, after the finishes queued before it; PostgreSQL: just before the statement is
   * sent), so the worker sizes a claim by the slots free then.
   */
  limit: number | (() => number);
  now: number;
  /** Also return expired leases to the queue in this call (default true). */
  expireLeases?: boolean;
  /**
   * Resolve as soon as the claim is committed, before the commit is synced to disk (SQLite FULL;
   * elsewhere a commit is durable when it returns). A claim need not be durable: one lost in a
   * power cut is a job still pending. Ignored when expireLeases is on (expired jobs are reported).
   */
  resolveAtCommit?: boolean;
}

/** A running job whose lease ran out: back to pending, or dead when its attempts were spent. */
export interface ExpiredLease {
  id: number;
  kind: string;
  seq: number;
  orderKey: string | null;
  state: "pending" | "dead";
}

export interface ClaimResult {
  expired: ExpiredLease[];
  /** The claimed jobs, now running with this owner's lease, attempts already counted. */
  jobs: Job[];
}

/** How a claimed job ended (queue/worker.ts decideFinish picks it). */
export type Finish =
  | { type: "done"; error: null }
  | { type: "discarded"; error: string }
  | { type: "dead"; error: string }
  | { type: "retry"; runAt: number; error: string; spendAttempt: boolean };

/** What finish needs of the claimed row (as the claim returned it). */
export interface FinishTarget {
  id: number;
  owner: string;
  orderKey: string | null;
  attempts: number;
  errors: string | null;
}

export interface JobFilter {
  state?: JobState;
  kind?: string;
  limit: number;
  /** The smallest id of the previous page: the next page holds older jobs. */
  cursor?: number;
}

export type RetryOutcome =
  | { outcome: "retried"; job: Job }
  | { outcome: "not_found" }
  | { outcome: "not_dead"; state: JobState };

export interface RetryDeadResult {
  retried: number[];
  /** Dead jobs left after this batch. */
  remaining: number;
}

/** Queue figures for /metrics and the admin API; reading them costs the same at any backlog. */
export interface QueueSnapshot {
  /** pending, running, discarded and dead jobs by kind, each count capped at countLimit. */
  byStateKind: { state: JobState; kind: string; count: number }[];
  countLimit: number;
  /** Done jobs kept until retention prunes them: an upper-bound estimate. */
  doneEstimate: number;
  oldestPendingAgeSeconds: number;
}

export interface JobStore {
  /**
   * Inserts a batch; one result per job, in order. A dedupe_key seen before (in any state, until
   * retention prunes the row) is not inserted again. A job with an order_key is inserted ready
   * only when nothing else of its chain is pending or running (job-rules.ts).
   * The webhook calls this once per request with one job: the engine batches the calls of one
   * tick into one transaction (SQLite: the group commit; PostgreSQL: collect for a tick, then one
   * multi-row INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING, with the advisory locks of
   * the batch's order_keys; a duplicate's id comes from a SELECT in the same transaction).
   */
  insert(jobs: readonly NewJob[]): Promise<InsertResult[]>;
  /**
   * First (unless expireLeases is false) returns running jobs whose lease_until < now to pending
   * (or dead, handing their chain's turn on), then leases up to `limit` ready pending jobs with
   * run_at <= now, oldest run_at first, to `owner` until now + leaseMs, counting an attempt.
   * Never takes a live lease. PostgreSQL: `UPDATE … WHERE id IN (SELECT id … ORDER BY run_at, id
   * LIMIT n FOR UPDATE SKIP LOCKED) RETURNING *`, served by the partial index on (run_at, id)
   * WHERE state = 'pending' AND ready = 1, so it stays O(log n) at a million pending jobs; the
   * expiry is a separate statement any gateway may run (it needs the chain locks for dead ones).
   */
  claim(opts: ClaimOptions): Promise<ClaimResult>;
  /**
   * Records how a claimed job ended; false (and no change) unless `owner` still holds its lease
   * (a job whose lease expired and was claimed again belongs to its new owner). done, discarded
   * and dead hand the chain's turn to its next job; retry keeps the turn (the chain waits).
   * Each failed attempt is appended to `errors` (job-rules.ts appendAttemptError).
   */
  finish(job: FinishTarget, f: Finish): Promise<boolean>;
  /**
   * Jobs still leased to an earlier process of this same instance (lease_owner starts with
   * `instancePrefix`, is not `owner`) go back to pending at once with that attempt given back:
   * that process is gone, so its leases need not run out. Returns how many.
   */
  releaseOwnPrevious(instancePrefix: string, owner: string): Promise<number>;
  byId(id: number): Promise<Job | null>;
  byDedupeKey(key: string): Promise<Job | null>;
  /**
   * Earliest moment something may become claimable: the smallest run_at of a ready pending job,
   * or lease_until of a running one; null when neither exists. Only a hint for the worker's
   * sleep: it polls anyway (PostgreSQL: another gateway's inserts show up at the next poll, or
   * sooner with LISTEN/NOTIFY).
   */
  nextWakeAt(): Promise<number | null>;
  /** Newest first by id, filtered; page with `cursor`. */
  list(filter: JobFilter): Promise<Job[]>;
  /**
   * A dead job goes back to pending with attempts reset and run_at = now; others are left alone.
   * Chain rule: it is ready only when nothing else of its order_key is pending or running;
   * otherwise it waits, and being early in seq order it goes next when the chain's head ends.
   */
  retry(id: number): Promise<RetryOutcome>;
  /** Retries the oldest dead jobs, at most min(limit, RETRY_DEAD_MAX), in one transaction. */
  retryDead(limit: number): Promise<RetryDeadResult>;
  /** Counts capped per (state, kind) and estimates instead of full scans: see QueueSnapshot. */
  stats(): Promise<QueueSnapshot>;
  /**
   * Deletes done and discarded jobs finished before `cutoff` (queue/retention.ts computes it),
   * in bounded batches so no transaction runs long. Returns how many rows went.
   */
  prune(cutoff: number): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// users, service accounts, audit log, settings

/**
 * What one sign-in tells us. Names and username are what Telegram signed now (absent = none);
 * `undefined` for language, premium and photo means "this source does not say" (the Login
 * Widget never sends language or premium, initData has a photo only from the attachment menu),
 * so the stored value is kept.
 */
export interface UserSighting {
  telegramId: number;
  firstName: string;
  lastName: string | null;
  username: string | null;
  languageCode?: string;
  isPremium?: boolean;
  photoUrl?: string;
}

export interface UserStore {
  /** Inserts or refreshes the user (last_seen never goes back); resolves with the stored row. */
  upsert(u: UserSighting, now: number): Promise<User>;
  byId(telegramId: number): Promise<User | null>;
}

/** Rows only: tokens, their hashing and the name rules live in operations/service-accounts.ts. */
export interface AccountStore {
  /** null when the name is taken (nothing written). */
  create(a: { name: string; role: Role; tokenHash: string }): Promise<ServiceAccount | null>;
  /** Sets revoked_at unless already set (idempotent); null when no account has that name. */
  revoke(name: string): Promise<ServiceAccount | null>;
  byName(name: string): Promise<ServiceAccount | null>;
  /** The account a token hash belongs to, revoked or not (the caller decides). */
  byTokenHash(tokenHash: string): Promise<ServiceAccount | null>;
  /** A page by id, ascending; cursor is the last id seen (0 for the first page). */
  list(limit: number, cursor: number): Promise<ServiceAccount[]>;
  /** Sets last_used_at = now unless it is already newer than notBefore (a write at most once per window). */
  touchLastUsed(id: number, now: number, notBefore: number): Promise<void>;
}

export interface AuditEntry {
  /** `account:<name>` for API calls, `cli:<user>` for the CLI. */
  actor: string;
  /** e.g. `jobs.retry`, `webhook.set`, `service_accounts.create`. */
  action: string;
  target: string | null;
  /** `ok`, or `error: <why>` / `denied`. */
  result: string;
  /** Small JSON with what the call asked for (never a secret). */
  detail: string | null;
}

export interface AuditStore {
  /** Appends one row stamped with the store's clock; resolves once durable. */
  record(e: AuditEntry): Promise<void>;
  /** Newest first; cursor is the smallest id of the previous page (null for the first). */
  page(limit: number, cursor: number | null): Promise<AuditRow[]>;
}

/** Small durable key/value settings: cached getMe, the generated session secret, dev secrets. */
export interface SettingStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  /**
   * Stores make() unless the key exists, then returns what is stored: processes (gateways)
   * starting together agree on one value. make is called at most once per call.
   */
  getOrCreate(key: string, make: () => string): Promise<string>;
  /** true when the key existed. */
  delete(key: string): Promise<boolean>;
}

/**
 * Mini App initData that already signed someone in, by its `hash`, until that initData expires:
 * a second sign-in with it is refused (a replay), on every gateway sharing the store.
 */
export interface InitDataReplayStore {
  /**
   * Records a first use: resolves true once the hash is durably recorded as used until expiresAt
   * (unix ms), false when it was used before and has not expired (a replay). A row whose expiry
   * is <= now counts as free (retention may not have pruned it yet) and takes the new expiry.
   * One statement, atomic across gateways (SQLite and PostgreSQL alike: INSERT … ON CONFLICT
   * (hash) DO UPDATE SET expires_at = excluded.expires_at WHERE expires_at <= now RETURNING hash).
   */
  firstUse(hash: string, expiresAt: number, now: number): Promise<boolean>;
  /** Deletes the rows expired at `now`; resolves with how many. */
  prune(now: number): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// health, backup

export interface HealthCheck {
  ok: boolean;
  /** Why not, for /readyz and `tgwh doctor` (never a secret). */
  detail?: string;
}

export interface StoreHealth {
  /** Whether a write could start now (SQLite: takes the write lock and lets it go). */
  writable(): Promise<HealthCheck>;
  /** Embedded migrations applied and pending. */
  migrations(): Promise<MigrationStatus>;
}

export interface BackupResult {
  file: string;
  bytes: number;
  /** The copy's integrity check result ("ok"). */
  check: string;
}

/** A backup target that cannot be used (exists, no directory): the caller's mistake, not a failure. */
export class BackupTargetError extends Error {
  override name = "BackupTargetError";
}

/** What a backup file holds, checked before `tgwh restore` puts it in place of the store. */
export type BackupInspection =
  /** Intact and tgwh's; `migrations.pending` are what the service applies to it at start. */
  | { ok: true; migrations: MigrationStatus }
  /** Why it cannot be restored (unreadable, damaged, not tgwh's, from a newer tgwh), with a hint. */
  | { ok: false; problem: string };

// ---------------------------------------------------------------------------------------------
// opening a store that must already exist

/**
 * What a caller that must never create a store (the operator commands) requires of the existing
 * one, given to openStore as `mustExist`:
 * - "reachable": it is there and this process may use it. SQLite: the file exists, and every
 *   directory on the way, the file and its directory (for -wal/-shm) are usable by this user.
 *   PostgreSQL: it connects and authenticates.
 * - "migrated": reachable and tgwh's: the migration table exists (pending migrations are fine:
 *   the caller may apply them).
 */
export type StoreRequirement = "reachable" | "migrated";

/**
 * The store is missing, out of reach or not tgwh's: refused before anything is created. A
 * ConfigError (exit 2, "configuration error: TGWH_DB: …") naming the setting, the location and
 * what to do; the one way every command refuses a missing database.
 */
export class MissingDatabaseError extends ConfigError {
  override name = "MissingDatabaseError";
}

/** One attempt's failure as kept in a job's `errors` JSON history. */
export interface AttemptError {
  attempt: number;
  at: number;
  error: string;
}

export type { AuditRow, Job, MigrationStatus, ServiceAccount, User };
