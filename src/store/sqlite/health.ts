// Raw SQL: taking the write lock (BEGIN IMMEDIATE) has no builder form.
import type { MigrationStatus } from "../migration-types";
import type { HealthCheck, StoreHealth } from "../types";
import type { Db } from "./connection";
import { migrationStatus } from "./migrate";
import { embeddedMigrations } from "./migrations";

/** Takes SQLite's write lock and lets it go: fails while the file is read-only or another process holds the lock past busy_timeout. */
export function writableCheck(db: Db): HealthCheck {
  try {
    db.sqlite.run("BEGIN IMMEDIATE");
    db.sqlite.run("ROLLBACK");
    return { ok: true };
  } catch (err) {
    if (db.sqlite.inTransaction) db.sqlite.run("ROLLBACK");
    return { ok: false, detail: (err as Error).message };
  }
}

export function createSqliteHealth(db: Db): StoreHealth {
  return {
    // Between group commits: the writer never leaves a transaction open across a turn of the event loop.
    writable: async () => writableCheck(db),
    migrations: async (): Promise<MigrationStatus> => migrationStatus(db.sqlite, embeddedMigrations),
  };
}
