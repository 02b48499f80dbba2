// Gathers the facts doctor-shared-checks.ts judges: raw SQL (server settings, no builder form)
// and one Redis PING.
import { RedisClient } from "bun";
import type { Config } from "../config";
import { openPool } from "../store/postgres/connection";
import { answerWithin, sqlState } from "../store/postgres/errors";
import { migrationStatus } from "../store/postgres/migrate";
import { embeddedMigrations } from "../store/postgres/migrations";
import { databaseLocation } from "../store/postgres/url";
import type { CheckResult } from "./doctor-checks";
import { postgresChecks, redisChecks, redisLocation, type PostgresFacts, type RedisFacts } from "./doctor-shared-checks";

export async function postgresFacts(url: string, timeoutMs: number): Promise<PostgresFacts> {
  const facts: PostgresFacts = {
    location: databaseLocation(url),
    connectError: null,
    sessionSynchronousCommit: null,
    synchronousCommitSource: null,
    standby: false,
    serverVersion: null,
    pendingMigrations: null,
    appliedMigrations: 0,
  };
  const pg = openPool({ url, applicationName: "tgwh doctor", max: 1, connectTimeoutSeconds: Math.max(1, Math.ceil(timeoutMs / 1000)) });
  try {
    const [row] = await answerWithin(
      timeoutMs,
      pg.sql.unsafe<{ sc: string; source: string; standby: boolean; version: string }[]>(
        `SELECT setting AS sc, source, pg_is_in_recovery() AS standby, current_setting('server_version') AS version FROM pg_settings WHERE name = 'synchronous_commit'`,
      ),
      "PostgreSQL",
    );
    facts.sessionSynchronousCommit = row?.sc ?? null;
    facts.synchronousCommitSource = row?.source ?? null;
    facts.standby = row?.standby ?? false;
    facts.serverVersion = row?.version ?? null;
    try {
      const st = await answerWithin(timeoutMs, migrationStatus(pg.sql, embeddedMigrations), "migration table");
      facts.appliedMigrations = st.applied.length;
      facts.pendingMigrations = st.applied.length === 0 ? null : st.pending;
    } catch {
      facts.pendingMigrations = null;
    }
  } catch (err) {
    facts.connectError = { code: sqlState(err) ?? ((err as { code?: string }).code ?? null), message: (err as Error).message };
  } finally {
    await pg.close().catch(() => {});
  }
  return facts;
}

export async function redisFacts(cfg: Pick<Config, "redisUrl" | "databaseUrl">, timeoutMs: number): Promise<RedisFacts> {
  const facts: RedisFacts = { configured: cfg.redisUrl !== null, sharedStore: cfg.databaseUrl !== null, location: null, error: null, pingMs: null };
  if (!cfg.redisUrl) return facts;
  facts.location = redisLocation(cfg.redisUrl);
  const client = new RedisClient(cfg.redisUrl, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: timeoutMs });
  try {
    const started = performance.now();
    // connect() to a refused port may never settle in Bun 1.4 (limits/redis-connection.ts): race it.
    await answerWithin(timeoutMs, client.connect(), "Redis");
    await answerWithin(timeoutMs, client.send("PING", []), "Redis PING");
    facts.pingMs = performance.now() - started;
  } catch (err) {
    facts.error = (err as Error).message.replaceAll(cfg.redisUrl, facts.location);
  } finally {
    client.close();
  }
  return facts;
}

/** The database (PostgreSQL) and Redis lines of `tgwh doctor`. */
export async function sharedEngineChecks(cfg: Config, timeoutMs: number): Promise<{ database: CheckResult[]; redis: CheckResult[] }> {
  const [pg, redis] = await Promise.all([cfg.databaseUrl ? postgresFacts(cfg.databaseUrl, timeoutMs) : null, redisFacts(cfg, timeoutMs)]);
  return { database: pg ? postgresChecks(pg) : [], redis: redisChecks(redis) };
}
