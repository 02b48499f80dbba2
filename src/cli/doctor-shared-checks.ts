/**
 * `tgwh doctor`'s judgements for the shared engines of a multi-gateway setup: the PostgreSQL
 * store (TGWH_DATABASE_URL) and Redis (TGWH_REDIS_URL). Facts in, OK/WARN/FAIL lines with a hint
 * out. Pure; the facts are gathered in doctor-shared.ts. Nothing here ever holds a URL's password:
 * locations come from databaseLocation().
 */
import { connectHint } from "../store/postgres/errors";
import type { CheckResult } from "./doctor-checks";

const ok = (name: string, detail: string): CheckResult => ({ name, status: "OK", detail });
const warn = (name: string, detail: string, hint: string): CheckResult => ({ name, status: "WARN", detail, hint });
const fail = (name: string, detail: string, hint: string): CheckResult => ({ name, status: "FAIL", detail, hint });

export interface PostgresFacts {
  /** postgres://user@host:port/db (no password). */
  location: string;
  /** Why connecting failed: SQLSTATE or Bun's code, and the server's message; null when connected. */
  connectError: { code: string | null; message: string } | null;
  /** What the gateways' sessions get (tgwh sets it as a startup parameter), e.g. "on". */
  sessionSynchronousCommit: string | null;
  /** Where the session's value came from (pg_settings.source): `client` is tgwh's startup parameter. */
  synchronousCommitSource: string | null;
  standby: boolean;
  serverVersion: string | null;
  /** null: the migration table could not be read. */
  pendingMigrations: string[] | null;
  appliedMigrations: number;
}

export function postgresChecks(f: PostgresFacts): CheckResult[] {
  if (f.connectError) return [fail("database", `cannot connect to ${f.location}: ${f.connectError.message}`, connectHint(f.connectError.code))];
  const out: CheckResult[] = [];
  if (f.standby) out.push(fail("database", `${f.location} is a standby (read-only)`, "point TGWH_DATABASE_URL at the primary (after a failover: the new primary's address)"));
  else out.push(ok("database", `${f.location} reachable (PostgreSQL ${f.serverVersion ?? "?"}), a primary`));
  if (f.pendingMigrations === null) out.push(fail("migrations", "no tgwh tables, or the migration table cannot be read", "run `tgwh migrate` (the gateways also apply migrations at start)"));
  else if (f.pendingMigrations.length > 0) out.push(fail("migrations", `pending: ${f.pendingMigrations.join(", ")}`, "run `tgwh migrate` (the gateways also apply them at start)"));
  else out.push(ok("migrations", `all ${f.appliedMigrations} applied`));
  const session = f.sessionSynchronousCommit;
  if (session === null || session === "off") {
    out.push(fail("synchronous_commit", `'${session ?? "unknown"}' on tgwh's connections`, "a connection pooler may drop startup parameters: connect to PostgreSQL directly, or ALTER ROLE <user> SET synchronous_commit = on"));
  } else {
    const from = f.synchronousCommitSource === "client" ? "set by tgwh on each connection" : `from the ${f.synchronousCommitSource ?? "server"} setting`;
    out.push(ok("synchronous_commit", `'${session}' (${from}): an acknowledged update is flushed to the WAL before the 200`));
  }
  return out;
}

export interface RedisFacts {
  configured: boolean;
  /** The store is shared (PostgreSQL): several gateways may run, so limits should be shared too. */
  sharedStore: boolean;
  /** redis://host:port/db (no password). */
  location: string | null;
  /** Why PING failed (never the URL), or null when it answered. */
  error: string | null;
  pingMs: number | null;
}

export function redisChecks(f: RedisFacts): CheckResult[] {
  if (!f.configured) {
    if (f.sharedStore) {
      return [warn("redis", "TGWH_REDIS_URL is not set", "with several gateways each one applies Telegram's send limits alone (N gateways may send N × 30 messages/s): set TGWH_REDIS_URL")];
    }
    return [ok("redis", "not used (TGWH_REDIS_URL unset): limits are this process's own, as one VM needs")];
  }
  if (f.error !== null) {
    return [
      warn(
        "redis",
        `${f.location} does not answer: ${f.error}`,
        "the gateways fall back to conservative local limits until it answers (docs/runbook.md, 'Redis unreachable'); check systemctl status redis-server, the URL, the password and the firewall",
      ),
    ];
  }
  return [ok("redis", `${f.location} answers PING in ${f.pingMs?.toFixed(1) ?? "?"} ms: limits are shared`)];
}

/** redis://host:port/db without user or password, for messages. */
export function redisLocation(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.hostname}${url.port ? `:${url.port}` : ""}${url.pathname === "/" ? "" : url.pathname}`;
  } catch {
    return "redis://(unparsable URL)";
  }
}
