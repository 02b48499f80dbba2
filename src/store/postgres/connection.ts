// The connection pool (Bun's built-in SQL client; README "PostgreSQL driver" says why) and
// drizzle's pg-core layer on top of it. Raw SQL: SHOW has no builder form.
import { SQL } from "bun";
import { drizzle, type BunSQLDatabase } from "drizzle-orm/bun-sql";
import * as schema from "./schema";
import { databaseUrlParts } from "./url";

/** Connections per gateway: the worker's finishes and claims, the webhook's tick batches, admin reads. */
export const POOL_MAX = 16;

export interface PoolOptions {
  url: string;
  /** Shown in pg_stat_activity: `tgwh <instance>` for a gateway, `tgwh cli` for commands. */
  applicationName: string;
  max?: number;
  /** Seconds to wait for a connection to open (then the statement fails). */
  connectTimeoutSeconds?: number;
}

export interface Pg {
  sql: SQL;
  orm: BunSQLDatabase<typeof schema>;
  close(): Promise<void>;
}

/**
 * Opens the pool lazily (the first statement connects). Every connection starts with
 * synchronous_commit = on as a startup parameter, which outranks the server's, the database's
 * and the role's settings: a COMMIT returns only once its WAL is flushed on the primary (and on
 * synchronous standbys where the server names any), so a resolved write is durable.
 * The URL's parts are passed explicitly: PGDATABASE and friends in the environment must not
 * point a gateway at another database than TGWH_DATABASE_URL names.
 */
export function openPool(opts: PoolOptions): Pg {
  const parts = databaseUrlParts(opts.url);
  const sql = new SQL({
    url: opts.url,
    adapter: "postgres",
    hostname: parts.hostname,
    port: parts.port,
    database: parts.database,
    username: parts.username,
    max: opts.max ?? POOL_MAX,
    // Idle connections go after a minute, so a restarted server's dead ones do not linger.
    idleTimeout: 60,
    connectionTimeout: opts.connectTimeoutSeconds ?? 10,
    connection: { synchronous_commit: "on", application_name: opts.applicationName.slice(0, 63) },
  });
  const orm = drizzle({ client: sql, schema });
  return { sql, orm, close: () => sql.close({ timeout: 5 }) };
}

/** The session's synchronous_commit: anything but `off` (and `local` only without standbys) waits for the WAL flush. */
export async function synchronousCommit(sql: SQL): Promise<string> {
  const [row] = await sql.unsafe<{ synchronous_commit: string }[]>("SHOW synchronous_commit");
  return row?.synchronous_commit ?? "unknown";
}

/** Refuses a session whose commits would not wait for the disk (a pooler that drops startup parameters). */
export async function assertDurableCommits(sql: SQL): Promise<void> {
  const value = await synchronousCommit(sql);
  if (value === "off" || value === "unknown") {
    throw new Error(
      `synchronous_commit is '${value}' on the database connection: tgwh acknowledges an update only after a durable commit. ` +
        "A connection pooler in front of PostgreSQL may drop the startup parameter that sets it; connect to PostgreSQL directly or set it on the role (ALTER ROLE … SET synchronous_commit = on)",
    );
  }
}
