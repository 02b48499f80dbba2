// The PostgreSQL store assembled; no SQL here (each file it builds on says builder or raw SQL at its top).
import { MissingDatabaseError } from "../sqlite";
import type { Store } from "../types";
import { createPgAccountStore } from "./accounts";
import { createPgAuditStore } from "./audit";
import { assertDurableCommits, openPool, type Pg } from "./connection";
import { createPgHealth } from "./health";
import { createPgJobStore } from "./jobs";
import { applyMigrations, migrationStatus } from "./migrate";
import { embeddedMigrations } from "./migrations";
import { createPgSettingStore } from "./settings";
import { databaseLocation, pgBackupPointer } from "./url";
import { createPgUserStore } from "./users";

export interface PostgresStoreOptions {
  /** TGWH_DATABASE_URL: a secret; only databaseLocation(url) is ever shown. */
  url: string;
  /** Shown in pg_stat_activity (`tgwh <instance>`), so an operator sees which gateway holds what. */
  applicationName: string;
  /** Apply pending migrations while opening (serve, and CLI commands that write). */
  migrate: boolean;
  /** Refuse a database without tgwh's tables: inspection commands must not work on the wrong database. */
  mustExist?: boolean;
  /** Tick-batch figures (metrics) and failures (log), as the SQLite group commit reports them. */
  onCommit?: (ops: number, seconds: number) => void;
  onCommitFailure?: (err: unknown, ops: number) => void;
  clock?: () => number;
  /** Pool size (POOL_MAX by default). */
  maxConnections?: number;
}

/** The PostgreSQL store plus its pool, for PostgreSQL-only tests and tools (never for callers). */
export interface PostgresStore extends Store {
  readonly engine: "postgres";
  readonly internals: { pg: Pg };
}

/**
 * Connects, checks that commits are durable (synchronous_commit, connection.ts) and, when asked,
 * migrates under the migration lock (migrate.ts). Then the store answers every method of
 * store/types.ts, with several gateways sharing the database (chain.ts, claim.ts).
 */
export async function createPostgresStore(opts: PostgresStoreOptions): Promise<PostgresStore> {
  const clock = opts.clock ?? Date.now;
  const location = databaseLocation(opts.url);
  const pg = openPool({ url: opts.url, applicationName: opts.applicationName, max: opts.maxConnections });
  try {
    await assertDurableCommits(pg.sql);
    if (opts.migrate) await applyMigrations(pg.sql, embeddedMigrations);
    else if (opts.mustExist && (await migrationStatus(pg.sql, embeddedMigrations)).applied.length === 0) {
      throw new MissingDatabaseError(`database ${location} has no tgwh tables; check TGWH_DATABASE_URL (\`tgwh migrate\` creates them)`);
    }
  } catch (err) {
    await pg.close().catch(() => {});
    throw err;
  }
  const jobs = createPgJobStore(pg, { clock, onCommit: opts.onCommit, onCommitFailure: opts.onCommitFailure });
  let closed = false;
  return {
    engine: "postgres",
    location,
    internals: { pg },
    jobs,
    users: createPgUserStore(pg),
    accounts: createPgAccountStore(pg, clock),
    audit: createPgAuditStore(pg, clock),
    settings: createPgSettingStore(pg, clock),
    health: createPgHealth(pg.sql),
    migrate: () => applyMigrations(pg.sql, embeddedMigrations),
    async backup() {
      throw new Error(pgBackupPointer(opts.url));
    },
    async close() {
      if (closed) return;
      closed = true;
      await jobs.drain();
      await pg.close();
    },
  };
}
