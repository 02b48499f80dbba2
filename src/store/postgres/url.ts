/**
 * TGWH_DATABASE_URL: its parts for the driver, and how it is shown (config.ts checks it). The URL is a secret (it usually
 * carries the password), so nothing outside the connection ever prints it: logs, /readyz, doctor
 * and `tgwh store copy` show `databaseLocation(url)`, which drops the password and the query
 * (where `password=` or `sslpassword=` may hide).
 */

export interface DatabaseUrlParts {
  hostname: string;
  port: number;
  database: string;
  username: string;
}

function databaseName(url: URL): string {
  return decodeURIComponent(url.pathname.replace(/^\//, ""));
}

/** The parts the driver is given explicitly, so PG* environment variables cannot redirect it. */
export function databaseUrlParts(raw: string): DatabaseUrlParts {
  const url = new URL(raw);
  return {
    hostname: url.hostname.replace(/^\[|\]$/g, "") || "localhost",
    port: url.port ? Number(url.port) : 5432,
    database: databaseName(url),
    username: decodeURIComponent(url.username) || "postgres",
  };
}

/** `postgres://user@host:port/database`: the URL without its password and query, for messages. */
export function databaseLocation(raw: string): string {
  try {
    const url = new URL(raw);
    const user = url.username ? `${url.username}@` : "";
    const port = url.port ? `:${url.port}` : "";
    return `postgres://${user}${url.hostname}${port}${url.pathname}`;
  } catch {
    return "postgres://(unparsable URL)";
  }
}

/** What `tgwh backup` and `tgwh restore` say on PostgreSQL: its own tools do that job. */
export function pgBackupPointer(raw: string): string {
  return (
    `the store is PostgreSQL (${databaseLocation(raw)}): tgwh backup and restore work on the SQLite file only. ` +
    'Back up with pg_dump (`pg_dump --format=custom --file=tgwh.dump "$TGWH_DATABASE_URL"`, restore with pg_restore into an empty database), ' +
    "or the managed service's snapshots and point-in-time recovery"
  );
}
