// The connection and its pragmas (raw SQL: PRAGMA has no builder); drizzle is layered on top.
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { drizzle, type BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import { adoptWhenCreated } from "./chains/adopt";
import { applyMigrations } from "./migrate";
import { embeddedMigrations } from "./migrations";
import { WAL_AUTOCHECKPOINT_PAGES } from "./pragmas";
import * as schema from "./schema";

export type Synchronous = "FULL" | "NORMAL";

export interface DbOptions {
  path: string;
  synchronous: Synchronous;
  busyTimeoutMs: number;
  /** Open read-only-ish for inspection commands: no migrations are applied. */
  migrate: boolean;
}

export interface Db {
  sqlite: Database;
  orm: BunSQLiteDatabase<typeof schema>;
  path: string;
  close(): void;
}

/** Opens the SQLite file with the pragmas tgwh relies on and, unless told not to, migrates it. */
export function openDb(opts: DbOptions): Db {
  if (opts.path !== ":memory:") mkdirSync(dirname(opts.path), { recursive: true });
  const sqlite = new Database(opts.path, { create: true, strict: true });
  // busy_timeout first: the WAL switch itself needs a lock another process may hold.
  sqlite.run(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs))}`);
  sqlite.run("PRAGMA journal_mode = WAL");
  sqlite.run(`PRAGMA synchronous = ${opts.synchronous}`);
  sqlite.run("PRAGMA foreign_keys = ON");
  // Keep the WAL from growing without bound under a steady write load.
  sqlite.run(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  if (opts.migrate) applyMigrations(sqlite, embeddedMigrations, adoptWhenCreated(sqlite));
  const orm = drizzle(sqlite, { schema });
  return { sqlite, orm, path: opts.path, close: () => sqlite.close() };
}
