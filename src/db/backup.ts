import { Database } from "bun:sqlite";
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { openDb } from "./client";

/** A backup target that cannot be used (exists, no directory): the caller's mistake, not a failure. */
export class BackupTargetError extends Error {
  override name = "BackupTargetError";
}

/**
 * Online backup: VACUUM INTO reads one snapshot in a read transaction, so the copy is consistent
 * at one instant while ingress and worker keep writing. The copy is checked before it counts.
 */
export function backupDatabase(dbPath: string, target: string, busyTimeoutMs: number): { file: string; bytes: number; check: string } {
  const file = resolve(target);
  if (existsSync(file)) throw new BackupTargetError(`${file} exists; give a new file name (a backup never overwrites)`);
  if (!existsSync(dirname(file))) throw new BackupTargetError(`directory ${dirname(file)} does not exist`);
  if (!existsSync(dbPath)) throw new Error(`database ${dbPath} does not exist; check TGWH_DB`);
  const db = openDb({ path: dbPath, synchronous: "FULL", busyTimeoutMs, migrate: false });
  try {
    db.sqlite.prepare("VACUUM INTO ?").run(file);
  } finally {
    db.close();
  }
  const copy = new Database(file, { readonly: true });
  try {
    const check = copy.query<{ quick_check: string }, []>("PRAGMA quick_check").get()?.quick_check ?? "unknown";
    if (check !== "ok") throw new Error(`the copy at ${file} failed PRAGMA quick_check: ${check}`);
    return { file, bytes: statSync(file).size, check };
  } finally {
    copy.close();
  }
}
