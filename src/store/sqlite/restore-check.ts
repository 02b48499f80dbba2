// Raw SQL: PRAGMA integrity_check and the migration table of a file that is not the store (yet).
import { Database } from "bun:sqlite";
import { accessSync, constants, statSync } from "node:fs";
import type { BackupInspection } from "../types";
import { migrationStatus } from "./migrate";
import { embeddedMigrations } from "./migrations";

const UNREADABLE_HINT = "the service's user must be able to read it (put it in /var/backups/tgwh)";

/**
 * Checks a backup file before `tgwh restore` copies it over the database: readable by this user,
 * passes PRAGMA integrity_check, holds tgwh's migration table, and was not written by a newer tgwh
 * (whose schema this binary does not know). Opens it read-only; changes nothing.
 */
export function inspectSqliteBackup(file: string): BackupInspection {
  const refuse = (problem: string): BackupInspection => ({ ok: false, problem });
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return refuse(code === "EACCES" ? `cannot read ${file}: permission denied (EACCES) on the way to it; ${UNREADABLE_HINT}` : `${file} does not exist (${code})`);
  }
  if (!st.isFile()) return refuse(`${file} is not a file`);
  try {
    accessSync(file, constants.R_OK);
  } catch {
    return refuse(`cannot read ${file}: permission denied (EACCES); ${UNREADABLE_HINT}`);
  }
  let db: Database | null = null;
  try {
    db = new Database(file, { readonly: true });
    const check = db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").all().map((r) => r.integrity_check);
    if (check.join() !== "ok") return refuse(`${file} fails PRAGMA integrity_check: ${check.slice(0, 3).join("; ")}`);
    const hasMigrations = db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get();
    if (!hasMigrations) return refuse(`${file} is not a tgwh database (no migration table)`);
    const last = db.query<{ last: number | null }, []>("SELECT max(created_at) AS last FROM __drizzle_migrations").get()?.last ?? 0;
    const newest = Math.max(0, ...embeddedMigrations.map((m) => m.when));
    if (Number(last) > newest) return refuse(`${file} was written by a newer tgwh (its schema is ahead of this binary's): restore it with that version`);
    return { ok: true, migrations: migrationStatus(db, embeddedMigrations) };
  } catch (err) {
    const msg = (err as Error).message;
    return refuse(/EACCES|permission|unable to open/i.test(msg) ? `cannot open ${file}: ${msg} (is it readable by the service's user?)` : `${file} is not a readable SQLite database: ${msg}`);
  } finally {
    db?.close();
  }
}
