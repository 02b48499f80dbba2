/**
 * PostgreSQL errors as Bun's SQL client reports them: `code` is Bun's (ERR_POSTGRES_…), `errno`
 * the server's SQLSTATE when the server sent one.
 */

interface PgErrorLike {
  code?: unknown;
  errno?: unknown;
}

/** The SQLSTATE the server sent ("23505", "57P01", …), or null for client-side errors. */
export function sqlState(err: unknown): string | null {
  const e = err as PgErrorLike | null;
  return typeof e?.errno === "string" ? e.errno : null;
}

/**
 * The connection went away (server restart, failover, a proxy's idle reaper, a network blip):
 * the statement may not have reached the server. Class 08 is "connection exception"; 57P01-03
 * are the server shutting down or not accepting connections yet.
 */
export function isConnectionError(err: unknown): boolean {
  const state = sqlState(err);
  if (state !== null) return state.startsWith("08") || state === "57P01" || state === "57P02" || state === "57P03";
  const code = (err as PgErrorLike | null)?.code;
  return typeof code === "string" && /^ERR_POSTGRES_(CONNECTION_CLOSED|CONNECTION_REFUSED|CONNECTION_TIMEOUT|IDLE_TIMEOUT|LIFETIME_TIMEOUT)$/.test(code);
}

/** Attempts of a statement that is safe to repeat after a dropped connection. */
const ATTEMPTS = 3;

/**
 * Runs an operation that is safe to repeat (a read, or a write whose repeat is a no-op: an insert
 * that dedupes, a claim) again when its connection dropped. After a server restart every pooled
 * connection is dead and fails its next statement at once; the retry takes a fresh one. Any other
 * error, and the last attempt's, goes to the caller.
 */
export async function retryOnReconnect<T>(op: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (attempt >= ATTEMPTS || !isConnectionError(err)) throw err;
    }
  }
}

/** PostgreSQL text cannot hold NUL; an error message or detail that carries one is stored with U+FFFD instead. */
export function pgText<T extends string | null>(s: T): T {
  return (s !== null && s.includes("\u0000") ? s.replaceAll("\u0000", "\uFFFD") : s) as T;
}

/** A hint per way a connection fails, from the SQLSTATE (or Bun's code) the attempt ended with. */
export function connectHint(code: string | null): string {
  switch (code) {
    case "28P01":
    case "28000":
      return "the user or password in TGWH_DATABASE_URL is refused: check the credential (systemd: /etc/tgwh/credentials/database_url) and pg_hba.conf";
    case "3D000":
      return "the database in TGWH_DATABASE_URL does not exist: createdb it (owner: the URL's user), then `tgwh migrate`";
    case "57P03":
      return "PostgreSQL is starting up or shutting down: try again in a moment";
    case "53300":
      return "too many connections: raise max_connections or lower the gateways' pools (16 connections each)";
    case "ERR_POSTGRES_CONNECTION_REFUSED":
      return "nothing listens at that host and port: is PostgreSQL running (systemctl status postgresql), listening on that address (listen_addresses), and the port open in the firewall?";
    case "ERR_POSTGRES_CONNECTION_TIMEOUT":
      return "no answer in time: check the host, the network path and the firewall";
    default:
      return "check TGWH_DATABASE_URL (host, port, database, user) and that PostgreSQL accepts this host (pg_hba.conf); TLS: add ?sslmode=require";
  }
}

/** Rejects with "<what>: no answer within <ms> ms" when `p` takes longer: /readyz and doctor must answer. */
export async function answerWithin<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: Timer | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
