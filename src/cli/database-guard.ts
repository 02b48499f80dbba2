import { Database } from "bun:sqlite";
import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";
import { ConfigError } from "../config";

/**
 * The operator commands (token, jobs, webhook set/delete, backup, restore, smoke) work on the
 * database the service already uses; they never create one. Only `serve` and `migrate` may:
 * a stray `sudo tgwh token create` must not leave a fresh ./data/tgwh.db whose token then gets 401.
 *
 * One check per store: the SQLite file exists, is reachable by this user and has tgwh's schema.
 * (A PostgreSQL store adds its own branch here: reachable and migrated.)
 */

/** What the file system says about the database path, gathered by `databaseFacts`. */
export interface DatabaseFacts {
  path: string;
  /** errno code of stat on the path (ENOENT, EACCES, ENOTDIR…), or null when it exists. */
  statError: string | null;
  isFile: boolean;
  /** The first directory on the way (or the file itself) this user may not use; null if none. */
  deniedAt: string | null;
  /** null when the file has tgwh's migration table; else why not. */
  schemaProblem: string | null;
}

export const MIGRATE_HINT = "run `tgwh migrate` to create it, or set TGWH_DB to the service's file (on a VM: sudo tgwh-admin CMD, which uses /var/lib/tgwh/tgwh.db)";

/** The verdict on the facts: null when the commands may use the file, else a ConfigError naming it. Pure. */
export function judgeDatabase(f: DatabaseFacts): ConfigError | null {
  if (f.statError === "EACCES" || f.deniedAt !== null) {
    const where = f.deniedAt ?? f.path;
    return new ConfigError("TGWH_DB", `cannot open ${f.path}: permission denied (EACCES) on ${where}; run the command as the service's user: sudo tgwh-admin CMD`);
  }
  if (f.statError === "ENOENT" || f.statError === "ENOTDIR") return new ConfigError("TGWH_DB", `database ${f.path} does not exist; ${MIGRATE_HINT}`);
  if (f.statError !== null) return new ConfigError("TGWH_DB", `cannot open ${f.path} (${f.statError})`);
  if (!f.isFile) return new ConfigError("TGWH_DB", `${f.path} is not a file`);
  if (f.schemaProblem !== null) return new ConfigError("TGWH_DB", `${f.path} is not a tgwh database (${f.schemaProblem}); ${MIGRATE_HINT}`);
  return null;
}

/** Each directory from / down to the file, then the file: the first one this process may not use. */
function firstDenied(path: string): string | null {
  const parts = path.split(sep).filter(Boolean);
  let dir: string = sep;
  for (const part of parts.slice(0, -1)) {
    dir = dir === sep ? `${sep}${part}` : `${dir}${sep}${part}`;
    try {
      accessSync(dir, constants.X_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EACCES") return dir;
      return null; // ENOENT and the like: stat reports them
    }
  }
  try {
    // SQLite writes -wal and -shm beside the file: the directory must be writable too.
    accessSync(dirname(path), constants.W_OK);
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EROFS") {
      try {
        accessSync(dirname(path), constants.W_OK);
      } catch {
        return dirname(path);
      }
      return path;
    }
  }
  return null;
}

function schemaProblem(path: string): string | null {
  let db: Database | null = null;
  try {
    db = new Database(path, { readonly: true });
    const row = db.query("SELECT 1 AS ok FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get();
    return row ? null : "no migrations were ever applied to it";
  } catch (err) {
    return (err as Error).message;
  } finally {
    db?.close();
  }
}

export function databaseFacts(dbPath: string): DatabaseFacts {
  const path = resolve(dbPath);
  let statError: string | null = null;
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch (err) {
    statError = (err as NodeJS.ErrnoException).code ?? "error";
  }
  const deniedAt = statError === null || statError === "EACCES" ? firstDenied(path) : null;
  return { path, statError, isFile, deniedAt, schemaProblem: statError === null && isFile && deniedAt === null ? schemaProblem(path) : null };
}

/** Throws the ConfigError (exit 2) that names the path and what to do, unless the database is there to use. */
export function ensureDatabaseReady(cfg: { dbPath: string }): void {
  const problem = judgeDatabase(databaseFacts(cfg.dbPath));
  if (problem) throw problem;
}
