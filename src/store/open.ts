import type { Config } from "../config";
import { createPostgresStore } from "./postgres";
import { createSqliteStore, type SqliteStoreOptions } from "./sqlite";
import { inspectSqliteBackup } from "./sqlite/restore-check";
import type { BackupInspection, Store } from "./types";

/** How a caller wants the store opened; engine-specific knobs stay inside each engine. */
export type OpenStoreOptions = Pick<
  SqliteStoreOptions,
  "migrate" | "mustExist" | "checkpointThread" | "onCommit" | "onCommitFailure" | "clock"
> & {
  /** PostgreSQL: how this process shows in pg_stat_activity (default `tgwh <instance id>`). */
  applicationName?: string;
};

/**
 * Opens the configured store: the one place that picks the engine. PostgreSQL when
 * TGWH_DATABASE_URL is set (shared by every gateway), else SQLite at TGWH_DB. Async because a
 * server engine connects (and migrates) before it can answer. With `mustExist` it never creates a
 * store: one that is missing, out of reach or (for "migrated") not tgwh's is a MissingDatabaseError
 * (types.ts). SQLite-only options (the checkpoint thread) are ignored on PostgreSQL; the commit
 * callbacks report its tick batches.
 */
export async function openStore(
  cfg: Pick<Config, "dbPath" | "synchronous" | "busyTimeoutMs"> & Partial<Pick<Config, "databaseUrl" | "instanceId">>,
  opts: OpenStoreOptions,
): Promise<Store> {
  if (cfg.databaseUrl) {
    return createPostgresStore({
      url: cfg.databaseUrl,
      applicationName: opts.applicationName ?? `tgwh ${cfg.instanceId ?? "cli"}`,
      migrate: opts.migrate,
      mustExist: opts.mustExist,
      onCommit: opts.onCommit,
      onCommitFailure: opts.onCommitFailure,
      clock: opts.clock,
    });
  }
  return createSqliteStore({ path: cfg.dbPath, synchronous: cfg.synchronous, busyTimeoutMs: cfg.busyTimeoutMs, ...opts });
}

/**
 * Checks a backup file before `tgwh restore` puts it in place of the store; changes nothing.
 * SQLite only: a restore replaces the TGWH_DB file. A PostgreSQL store is restored with
 * pg_restore; `tgwh restore` refuses there before it gets here (cli/restore.ts).
 */
export function inspectBackup(file: string): BackupInspection {
  return inspectSqliteBackup(file);
}
