// Raw SQL: one look at sqlite_master of a file opened read-only, before any connection is made.
import { Database } from "bun:sqlite";
import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";
import { MissingDatabaseError, type StoreRequirement } from "../types";

/**
 * `mustExist` for the SQLite engine: the operator commands (token, jobs, webhook set/delete,
 * backup, smoke, migrate --status) work on the file the service already uses and never create
 * one, so a stray `sudo tgwh token create` cannot leave a fresh ./data/tgwh.db whose token then
 * gets 401. Facts are gathered first (file system, then the schema), then judged by a pure rule.
 */

/** What the file system (and, for "migrated", the file) says about the database path. */
export interface SqliteFileFacts {
  path: string;
  /** errno code of stat on the path (ENOENT, EACCES, ENOTDIR…), or null when it exists. */
  statError: string | null;
  isFile: boolean;
  /** The first directory on the way (or the file itself) this user may not use; null if none. */
  deniedAt: string | null;
  /** null when the file has tgwh's migration table (or it was not asked); else why not. */
  schemaProblem: string | null;
}

export const MIGRATE_HINT = "run `tgwh migrate` to create it, or set TGWH_DB to the service's file (on a VM: sudo tgwh-admin CMD, which uses /var/lib/tgwh/tgwh.db)";

const refuse = (problem: string) => new MissingDatabaseError("TGWH_DB", problem);

/** The verdict on the facts: null when the commands may use the file, else the error naming it. Pure. */
export function judgeSqliteFile(f: SqliteFileFacts): MissingDatabaseError | null {
  if (f.statError === "EACCES" || f.deniedAt !== null) {
    const where = f.deniedAt ?? f.path;
    return refuse(`cannot open ${f.path}: permission denied (EACCES) on ${where}; run the command as the service's user: sudo tgwh-admin CMD`);
  }
  if (f.statError === "ENOENT" || f.statError === "ENOTDIR") return refuse(`database ${f.path} does not exist; ${MIGRATE_HINT}`);
  if (f.statError !== null) return refuse(`cannot open ${f.path} (${f.statError})`);
  if (!f.isFile) return refuse(`${f.path} is not a file`);
  if (f.schemaProblem !== null) return refuse(`${f.path} is not a tgwh database (${f.schemaProblem}); ${MIGRATE_HINT}`);
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

/** Read-only: never creates the file, never writes to it (no WAL switch, no -wal/-shm). */
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

export function sqliteFileFacts(dbPath: string, need: StoreRequirement): SqliteFileFacts {
  const path = resolve(dbPath);
  let statError: string | null = null;
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch (err) {
    statError = (err as NodeJS.ErrnoException).code ?? "error";
  }
  const deniedAt = statError === null || statError === "EACCES" ? firstDenied(path) : null;
  const usable = statError === null && isFile && deniedAt === null;
  return { path, statError, isFile, deniedAt, schemaProblem: need === "migrated" && usable ? schemaProblem(path) : null };
}

/** Throws MissingDatabaseError (exit 2 in the CLI) naming the path and what to do, unless the file meets `need`. */
export function refuseMissingSqliteFile(dbPath: string, need: StoreRequirement): void {
  const problem = judgeSqliteFile(sqliteFileFacts(dbPath, need));
  if (problem) throw problem;
}
