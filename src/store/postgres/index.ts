// The PostgreSQL store assembled; no SQL here (each file it builds on says builder or raw SQL at its top).
import { MissingDatabaseError, type Store, type StoreRequirement } from "../types";
import { createPgAccountStore } from "./accounts";
import { createPgAuditStore } from "./audit";
import { assertDurableCommits, openPool, type Pg } from "./connection";
import { connectHint, sqlState } from "./errors";
import { createPgHealth } from "./health";
import { createPgInitDataReplayStore } from "./init-data-replays";
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
  /**
   * The operator commands never create a store (types.ts StoreRequirement): "reachable" refuses a
   * database that does not connect, "migrated" also one without tgwh's tables, checked before
   * `migrate` would create them. Either refusal is a MissingDatabaseError (exit 2).
   */
  mustExist?: StoreRequirement;
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
    try {
      await assertDurableCommits(pg.sql); // the first statement: connects and authenticates
    } catch (err) {
      if (!opts.mustExist) throw err;
      const code = sqlState(err) ?? ((err as { code?: string }).code ?? null);
      throw new MissingDatabaseError("TGWH_DATABASE_URL", `cannot use ${location}: ${(err as Error).message}; ${connectHint(code)}`);
    }
    if (opts.mustExist === "migrated" && (await migrationStatus(pg.sql, embeddedMigrations)).applied.length === 0) {
      throw new MissingDatabaseError("TGWH_DATABASE_URL", `database ${location} has no tgwh tables; check TGWH_DATABASE_URL (\`tgwh migrate\` creates them)`);
    }
    if (opts.migrate) await applyMigrations(pg.sql, embeddedMigrations);
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
    initDataReplays: createPgInitDataReplayStore(pg),
    health: createPgHealth(pg.sql),
    migrate: () => applyMigrations(pg.sql, embeddedMigrations),
    chainMode: async () => "index",
    async setChainMode(mode) {
      if (mode === "index") return false;
      throw new Error("PostgreSQL keeps per-chat order in its jobs_chain index; the linked lists (--chain-list) are a SQLite mode");
    },
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
