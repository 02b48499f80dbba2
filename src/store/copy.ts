// Raw SQL on both sides: a bulk copy that keeps ids (jobs, accounts, audit) and resets the
// sequences after; drizzle's builder would add nothing but per-row work.
import { Database } from "bun:sqlite";
import type { SQL } from "bun";
import { existsSync } from "node:fs";
import { openPool } from "./postgres/connection";
import { applyMigrations } from "./postgres/migrate";
import { embeddedMigrations as pgMigrations } from "./postgres/migrations";
import { databaseLocation } from "./postgres/url";
import { migrationStatus as sqliteMigrationStatus } from "./sqlite/migrate";
import { embeddedMigrations as sqliteMigrations } from "./sqlite/migrations";

/**
 * `tgwh store copy --to postgres://…`: moves a SQLite deployment to PostgreSQL with what a
 * running service needs, nothing it could miss:
 * - jobs not finished (pending, running, dead) and done/discarded jobs finished inside the
 *   dedupe window (retention): a redelivered update_id is still a duplicate after the move;
 *   older finished jobs, which retention would prune anyway, stay behind;
 * - a job `running` in the file belongs to a stopped process: it is copied as pending with the
 *   interrupted attempt given back, as a restart would release it;
 * - users, service accounts (token hashes, so every token keeps working), the audit log,
 *   settings (the session signing key: sessions stay valid; the cached getMe), and the initData
 *   sign-ins not yet expired (a replay stays refused after the move);
 * - ids are kept (audit entries and operators' notes name job ids) and the sequences continue
 *   after them.
 * The source is read in one read transaction (a consistent snapshot); the target is written in
 * one transaction that first checks it is empty, so a copy is all or nothing and never mixes
 * into a database in use.
 */

export class CopyRefusedError extends Error {
  override name = "CopyRefusedError";
}

export interface CopyCounts {
  jobs: { pending: number; running: number; dead: number; done: number; discarded: number; leftBehind: number };
  users: number;
  serviceAccounts: number;
  auditEntries: number;
  settings: number;
  /** initData sign-ins still refused as replays until they expire. */
  initDataReplays: number;
}

export interface CopyResult {
  from: string;
  to: string;
  /** Finished jobs before this moment were left behind (the retention cut-off). */
  cutoff: number;
  counts: CopyCounts;
}

const TABLES = ["jobs", "users", "service_accounts", "audit_log", "settings", "init_data_replays"] as const;
const BATCH = 5000;

/** Column lists per table, in one order for the SQLite SELECT and the PostgreSQL unnest. */
const COLUMNS = {
  jobs: [
    ["id", "int8"], ["kind", "text"], ["dedupe_key", "text"], ["order_key", "text"], ["seq", "int8"], ["ready", "int4"], ["payload", "text"],
    ["state", "text"], ["attempts", "int4"], ["max_attempts", "int4"], ["run_at", "int8"], ["lease_until", "int8"], ["lease_owner", "text"],
    ["last_error", "text"], ["errors", "text"], ["created_at", "int8"], ["started_at", "int8"], ["finished_at", "int8"],
  ],
  users: [
    ["telegram_id", "int8"], ["first_name", "text"], ["last_name", "text"], ["username", "text"], ["language_code", "text"],
    ["is_premium", "bool"], ["photo_url", "text"], ["first_seen", "int8"], ["last_seen", "int8"],
  ],
  service_accounts: [["id", "int8"], ["name", "text"], ["role", "text"], ["token_hash", "text"], ["created_at", "int8"], ["revoked_at", "int8"], ["last_used_at", "int8"]],
  audit_log: [["id", "int8"], ["actor", "text"], ["action", "text"], ["target", "text"], ["result", "text"], ["detail", "text"], ["at", "int8"]],
  settings: [["key", "text"], ["value", "text"], ["updated_at", "int8"]],
  init_data_replays: [["hash", "text"], ["expires_at", "int8"]],
} as const satisfies Record<(typeof TABLES)[number], readonly (readonly [string, string])[]>;

type Table = keyof typeof COLUMNS;
type Row = Record<string, unknown>;

/** What goes over from each table (SQLite side); `?1` is the retention cut-off, `?2` the last key copied, `?3` now. */
const SOURCE: Record<Table, { where: string; key: string }> = {
  jobs: { where: "(state IN ('pending', 'running', 'dead') OR (state IN ('done', 'discarded') AND finished_at >= ?1))", key: "id" },
  users: { where: "1 = 1", key: "telegram_id" },
  service_accounts: { where: "1 = 1", key: "id" },
  audit_log: { where: "1 = 1", key: "id" },
  settings: { where: "1 = 1", key: "key" },
  // initData used to sign in stays refused until it expires, on the new store too.
  init_data_replays: { where: "expires_at > ?3", key: "hash" },
};

/** A running job of a stopped process: back to pending, the interrupted attempt given back (as releaseOwnPrevious). */
function releaseRunning(r: Row): Row {
  if (r.state !== "running") return r;
  return {
    ...r,
    state: "pending",
    lease_owner: null,
    lease_until: null,
    attempts: Math.max(0, Number(r.attempts) - 1),
    last_error: "released by tgwh store copy: the process running it had stopped",
  };
}

async function insertRows(tx: SQL, table: Table, rows: Row[]): Promise<void> {
  const cols = COLUMNS[table];
  const arrays = cols.map(([name, type]) =>
    rows.map((r) => {
      const v = r[name];
      if (v === null || v === undefined) return null;
      if (type === "bool") return v === 1 || v === true;
      return v;
    }),
  );
  const names = cols.map(([n]) => n).join(", ");
  const unnest = cols.map(([, t], i) => `$${i + 1}::${t}[]`).join(", ");
  await tx.unsafe(`INSERT INTO ${table} (${names}) SELECT * FROM unnest(${unnest})`, arrays);
}

async function assertEmpty(tx: SQL, to: string): Promise<void> {
  const found: string[] = [];
  for (const t of TABLES) {
    const [row] = await tx.unsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM (SELECT 1 FROM ${t} LIMIT 1000) s`);
    if (row && row.n > 0) found.push(`${t}: ${row.n >= 1000 ? "1000+" : row.n}`);
  }
  if (found.length) throw new CopyRefusedError(`${to} is not empty (${found.join(", ")}): tgwh store copy only fills an empty database, so nothing is mixed or overwritten`);
}

export interface CopyOptions {
  /** The configured SQLite file (TGWH_DB). */
  sqlitePath: string;
  /** The target's postgres:// URL (a secret: only its location is ever shown). */
  targetUrl: string;
  /** Finished jobs before this moment stay behind (queue/retention.ts retentionCutoff). */
  cutoff: number;
  /** Recorded in the target's audit log as the copy's actor (`cli:<user>`). */
  actor: string;
  now: number;
}

export async function copySqliteToPostgres(opts: CopyOptions): Promise<CopyResult> {
  const to = databaseLocation(opts.targetUrl);
  if (!existsSync(opts.sqlitePath)) throw new CopyRefusedError(`database ${opts.sqlitePath} does not exist; check TGWH_DB (the store to copy from)`);
  // Read-write open (nothing is written): a read-only one cannot create the WAL index of a stopped service's file.
  const src = new Database(opts.sqlitePath, { readwrite: true, create: false });
  const pg = openPool({ url: opts.targetUrl, applicationName: "tgwh store copy", max: 2 });
  try {
    const st = sqliteMigrationStatus(src, sqliteMigrations);
    if (st.pending.length) throw new CopyRefusedError(`${opts.sqlitePath} has migrations pending (${st.pending.join(", ")}): run \`tgwh migrate\` on it first`);
    await applyMigrations(pg.sql, pgMigrations);
    src.run("BEGIN"); // one snapshot of the file for the whole copy (WAL: writers are not blocked)
    const counts: CopyCounts = { jobs: { pending: 0, running: 0, dead: 0, done: 0, discarded: 0, leftBehind: 0 }, users: 0, serviceAccounts: 0, auditEntries: 0, settings: 0, initDataReplays: 0 };
    await pg.sql.begin(async (tx) => {
      // Nobody else writes while this runs (a gateway started too early waits, then finds the rows).
      await tx.unsafe(`LOCK TABLE ${TABLES.join(", ")} IN EXCLUSIVE MODE`);
      await assertEmpty(tx, to);
      for (const table of TABLES) {
        const { where, key } = SOURCE[table];
        const select = src.prepare<Row, (string | number)[]>(
          `SELECT ${COLUMNS[table].map(([n]) => n).join(", ")} FROM ${table} WHERE ${where} AND ${key} > ?2 ORDER BY ${key} LIMIT ${BATCH}`,
        );
        let after: string | number = table === "settings" || table === "init_data_replays" ? "" : Number.MIN_SAFE_INTEGER;
        for (;;) {
          // bun:sqlite wants exactly as many values as the highest ?N the statement names: only replays name ?3.
          const rows = select.all(...(table === "init_data_replays" ? [opts.cutoff, after, opts.now] : [opts.cutoff, after]));
          if (rows.length === 0) break;
          after = rows.at(-1)![key] as string | number;
          if (table === "jobs") for (const r of rows) counts.jobs[r.state as keyof CopyCounts["jobs"]]++;
          await insertRows(tx, table, table === "jobs" ? rows.map(releaseRunning) : rows);
          if (table === "users") counts.users += rows.length;
          if (table === "service_accounts") counts.serviceAccounts += rows.length;
          if (table === "audit_log") counts.auditEntries += rows.length;
          if (table === "settings") counts.settings += rows.length;
          if (table === "init_data_replays") counts.initDataReplays += rows.length;
        }
      }
      counts.jobs.leftBehind = (src.query(`SELECT count(*) AS n FROM jobs WHERE state IN ('done', 'discarded') AND finished_at < ?`).get(opts.cutoff) as { n: number }).n;
      for (const [table, column] of [["jobs", "id"], ["service_accounts", "id"], ["audit_log", "id"]] as const) {
        await tx.unsafe(`SELECT setval(pg_get_serial_sequence('${table}', '${column}'), coalesce(max(${column}), 0) + 1, false) FROM ${table}`);
      }
      const detail = JSON.stringify({ from: opts.sqlitePath, jobs: counts.jobs, users: counts.users, serviceAccounts: counts.serviceAccounts, auditEntries: counts.auditEntries, settings: counts.settings, initDataReplays: counts.initDataReplays });
      await tx.unsafe(`INSERT INTO audit_log (actor, action, target, result, detail, at) VALUES ($1, 'store.copy', $2, 'ok', $3, $4)`, [opts.actor, to, detail, opts.now]);
    });
    return { from: opts.sqlitePath, to, cutoff: opts.cutoff, counts };
  } finally {
    if (src.inTransaction) src.run("ROLLBACK");
    src.close();
    await pg.close();
  }
}
