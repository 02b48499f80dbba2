// Raw SQL: server state functions (pg_is_in_recovery, current_setting) have no builder form.
import type { SQL } from "bun";
import type { MigrationStatus } from "../migration-types";
import type { HealthCheck, StoreHealth } from "../types";
import { answerWithin } from "./errors";
import { migrationStatus } from "./migrate";
import { embeddedMigrations } from "./migrations";

/** How long a health probe may take before it counts as a failure (/readyz must answer). */
const PROBE_TIMEOUT_MS = 3000;

const withTimeout = <T>(p: Promise<T>, what: string) => answerWithin(PROBE_TIMEOUT_MS, p, what);

/**
 * Could a write start now? The server answers, is a primary (a standby after a failover is
 * read-only), the session is not read-only, and commits wait for the WAL flush.
 */
export async function writableCheck(sql: SQL): Promise<HealthCheck> {
  try {
    const [row] = await withTimeout(
      sql.unsafe<{ standby: boolean; ro: string; sc: string }[]>(
        "SELECT pg_is_in_recovery() AS standby, current_setting('transaction_read_only') AS ro, current_setting('synchronous_commit') AS sc",
      ),
      "database check (PostgreSQL)",
    );
    if (!row) return { ok: false, detail: "no answer" };
    if (row.standby) return { ok: false, detail: "the server is a standby (in recovery): writes go to the primary; check TGWH_DATABASE_URL after a failover" };
    if (row.ro === "on") return { ok: false, detail: "the session is read-only (default_transaction_read_only)" };
    if (row.sc === "off") return { ok: false, detail: "synchronous_commit is off: acknowledged updates could be lost" };
    return { ok: true };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

export function createPgHealth(sql: SQL): StoreHealth {
  return {
    writable: () => writableCheck(sql),
    migrations: (): Promise<MigrationStatus> => withTimeout(migrationStatus(sql, embeddedMigrations), "migration check"),
  };
}
