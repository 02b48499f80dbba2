// Raw SQL: the migrator runs before anything else exists and must work on any earlier schema.
import type { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import type { EmbeddedMigration, MigrationStatus } from "../migration-types";

// Same bookkeeping table as drizzle-kit's migrator, so `drizzle-kit` and tgwh agree on what ran.
const TABLE = "__drizzle_migrations";

function ensureTable(sqlite: Database): void {
  sqlite.run(`CREATE TABLE IF NOT EXISTS ${TABLE} (id INTEGER PRIMARY KEY, hash TEXT NOT NULL, created_at NUMERIC)`);
}

function lastAppliedMillis(sqlite: Database): number {
  const row = sqlite.query(`SELECT max(created_at) AS last FROM ${TABLE}`).get() as { last: number | null } | null;
  return Number(row?.last ?? 0);
}

export function migrationStatus(sqlite: Database, migrations: EmbeddedMigration[]): MigrationStatus {
  const exists = sqlite.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(TABLE);
  const last = exists ? lastAppliedMillis(sqlite) : 0;
  return {
    applied: migrations.filter((m) => m.when <= last).map((m) => m.tag),
    pending: migrations.filter((m) => m.when > last).map((m) => m.tag),
  };
}

/**
 * Applies the embedded migrations that are newer than the last applied one, in one IMMEDIATE
 * transaction: two processes starting on the same file (a canary pair) serialise here instead of
 * failing on a lock upgrade, and the second one finds nothing left to do. `then` runs inside
 * the same transaction with what was applied (the new-database step, chains/adopt.ts).
 */
export function applyMigrations(sqlite: Database, migrations: EmbeddedMigration[], then?: (applied: string[]) => void): string[] {
  sqlite.run("BEGIN IMMEDIATE");
  try {
    ensureTable(sqlite);
    const last = lastAppliedMillis(sqlite);
    const applied: string[] = [];
    for (const m of migrations) {
      if (m.when <= last) continue;
      for (const stmt of m.sql.split("--> statement-breakpoint")) {
        if (stmt.trim()) sqlite.run(stmt);
      }
      const hash = createHash("sha256").update(m.sql).digest("hex");
      sqlite.run(`INSERT INTO ${TABLE} (hash, created_at) VALUES (?, ?)`, [hash, m.when]);
      applied.push(m.tag);
    }
    then?.(applied);
    sqlite.run("COMMIT");
    return applied;
  } catch (err) {
    sqlite.run("ROLLBACK");
    throw err;
  }
}
