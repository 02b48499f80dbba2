import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/**
 * Run as root (`sudo tgwh-admin …`), tgwh acts as the user that owns the database before it
 * opens it: a root process would leave root-owned -wal/-shm files (or a root-owned database)
 * that the service, running as `tgwh`, cannot write, and `serve` would crash-loop on
 * "attempt to write a readonly database".
 *
 * The switch happens in this process, after the configuration (and so the root-only credentials)
 * has been read: the secrets stay in memory instead of travelling through an environment or a
 * command line to a re-executed child. setgroups + setgid + setuid as root change the real,
 * effective and saved ids of every thread (checked: Bun's worker and JIT threads included), so
 * there is no way back to root afterwards.
 */

export interface Owner {
  uid: number;
  gid: number;
  /** The file or directory whose owner was taken. */
  of: string;
}

/** Whose files these are: the database's owner, or its directory's when the file does not exist yet. */
export function databaseOwner(dbPath: string): Owner | null {
  const path = resolve(dbPath);
  for (const candidate of [path, dirname(path)]) {
    try {
      const st = statSync(candidate);
      return { uid: st.uid, gid: st.gid, of: candidate };
    } catch {
      // not there: try the directory
    }
  }
  return null;
}

/** Whether to switch, and to whom: only root switches, and only to a non-root owner. Pure. */
export function switchTarget(currentUid: number, owner: Owner | null): Owner | null {
  if (currentUid !== 0 || owner === null || owner.uid === 0) return null;
  return owner;
}

/**
 * Becomes the owner of the database (file, or its directory) when running as root; a no-op for
 * everyone else and for a root-owned database (a developer's machine, a test). Returns a note for
 * the caller to show, or null when nothing changed.
 */
export function actAsServiceUser(dbPath: string): string | null {
  if (typeof process.getuid !== "function") return null;
  const target = switchTarget(process.getuid(), databaseOwner(dbPath));
  if (!target) return null;
  try {
    (process as unknown as { initgroups(user: number, extraGroup: number): void }).initgroups(target.uid, target.gid);
  } catch {
    // a uid without a passwd entry: only its own group then
    process.setgroups?.([target.gid]);
  }
  process.setgid?.(target.gid);
  process.setuid?.(target.uid);
  return `acting as uid ${target.uid}, the owner of ${target.of}`;
}
