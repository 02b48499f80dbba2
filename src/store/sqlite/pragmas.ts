// Raw SQL: PRAGMA has no builder form.
import type { Database } from "bun:sqlite";

/**
 * SQLite's own automatic checkpoint, in WAL pages, for a connection that checkpoints itself
 * (connection.ts); commit/checkpointer.ts restores it when its thread dies. A module of its own so the
 * checkpoint thread can use it without loading drizzle and the migrations.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 1000;

/** The connection's journal mode ("wal", "delete", "memory", ...). */
export function journalMode(sqlite: Database): string | undefined {
  return (sqlite.query("PRAGMA journal_mode").get() as { journal_mode: string } | null)?.journal_mode;
}
