import type { Database } from "bun:sqlite";
import { closeSync, existsSync, fdatasync, fdatasyncSync, fsyncSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { journalMode } from "../pragmas";

/**
 * Durable commits without blocking the event loop.
 *
 * With `synchronous=FULL` SQLite fsyncs the WAL inside COMMIT, and bun:sqlite is synchronous, so
 * the whole process (HTTP included) stands still for every fsync (~1–2 ms here): one tick can
 * then carry at most the requests that arrived during the previous fsync, and nothing is parsed
 * meanwhile. In WAL mode FULL differs from NORMAL only by that per-commit fsync of the WAL file
 * (NORMAL still syncs the WAL before each checkpoint and the database file after it, so
 * checkpointed data is durable before its WAL frames are reused). So the writer runs the
 * connection at NORMAL and fdatasyncs the WAL file itself on libuv's thread pool after each
 * commit, resolving a batch only when a sync that started after its COMMIT has returned:
 * FULL's guarantee (a resolved write survives power loss), while the event loop keeps serving.
 */
export interface WalSync {
  /** Makes everything committed so far durable; runs off the event loop. */
  sync(): Promise<void>;
  /** The same, blocking (shutdown). */
  syncNow(): void;
  close(): void;
}

/**
 * Switches `sqlite` (opened on `path` in WAL mode) to NORMAL and returns the WAL syncer that
 * restores FULL's durability for the writer's commits. null for an in-memory database.
 */
export function takeOverWalSync(sqlite: Database, path: string): WalSync | null {
  if (path === ":memory:" || path === "") return null;
  if (journalMode(sqlite) !== "wal") return null; // not WAL: SQLite's own FULL commit stays in charge
  const walPath = `${path}-wal`;
  // A read transaction makes SQLite create the -wal file if it is not there yet.
  sqlite.query("SELECT count(*) FROM sqlite_master").get();
  if (!existsSync(walPath)) return null;
  let fd = -1;
  try {
    fd = openSync(walPath, "r");
    fdatasyncSync(fd);
  } catch {
    if (fd >= 0) closeSync(fd);
    return null; // cannot sync it ourselves: SQLite's own FULL commit stays in charge (slower, as safe)
  }
  // The -wal file's directory entry must be durable too (SQLite syncs it only on its own first WAL
  // sync). Best effort, as SQLite does: some filesystems refuse fsync on a directory.
  try {
    const dirFd = openSync(dirname(walPath), "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // not supported here
  }
  sqlite.run("PRAGMA synchronous = NORMAL");
  let closed = false;
  return {
    sync: () =>
      new Promise<void>((resolve, reject) => {
        if (closed) return reject(new Error("WAL sync used after the database was closed"));
        fdatasync(fd, (err) => (err ? reject(err) : resolve()));
      }),
    syncNow: () => {
      if (!closed) fdatasyncSync(fd);
    },
    close: () => {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}
