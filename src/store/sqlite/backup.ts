// Raw SQL: VACUUM INTO and PRAGMA quick_check have no builder form.
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, linkSync, lstatSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fsyncPath } from "../../fs-durable";
import { BackupTargetError, type BackupResult } from "../types";
import { openDb } from "./connection";

/** Whether anything, a dangling symlink included, sits at `path` (existsSync follows links). */
const occupied = (path: string) => lstatSync(path, { throwIfNoEntry: false }) !== undefined;

/**
 * Online backup: VACUUM INTO reads one snapshot in a read transaction, so the copy is consistent
 * at one instant while ingress and worker keep writing. The copy is checked before it counts.
 *
 * A backup holds everything the service knows (docs/operating.md), so it is written like a
 * secret: VACUUM INTO fills a file inside a fresh 0700 directory beside the target, the file is
 * made 0600 and checked, then link(2) gives it the target's name. link, like open with O_EXCL,
 * fails when anything has that name, a dangling symlink included, and never follows a link;
 * a crash part way leaves only the hidden work directory, never a half-written backup.
 */
export function backupDatabase(dbPath: string, target: string, busyTimeoutMs: number): BackupResult {
  const file = resolve(target);
  const dir = dirname(file);
  const exists = () => new BackupTargetError(`${file} exists (or is a symlink); give a new file name (a backup never overwrites)`);
  if (occupied(file)) throw exists();
  if (!existsSync(dir)) throw new BackupTargetError(`directory ${dir} does not exist`);
  if (!existsSync(dbPath)) throw new Error(`database ${dbPath} does not exist; check TGWH_DB`);
  const work = mkdtempSync(join(dir, `.${basename(file)}.tmp-`));
  try {
    const copyPath = join(work, "backup.db");
    const db = openDb({ path: dbPath, synchronous: "FULL", busyTimeoutMs, migrate: false });
    try {
      db.sqlite.prepare("VACUUM INTO ?").run(copyPath);
    } finally {
      db.close();
    }
    chmodSync(copyPath, 0o600);
    const copy = new Database(copyPath, { readonly: true });
    let check: string;
    try {
      check = copy.query<{ quick_check: string }, []>("PRAGMA quick_check").get()?.quick_check ?? "unknown";
    } finally {
      copy.close();
    }
    if (check !== "ok") throw new Error(`the copy of ${dbPath} failed PRAGMA quick_check: ${check}`);
    fsyncPath(copyPath);
    try {
      linkSync(copyPath, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") throw exists();
      throw err;
    }
    fsyncPath(dir);
    return { file, bytes: statSync(file).size, check };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
