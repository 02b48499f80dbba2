// Raw SQL: advisory locks, DDL and the bookkeeping table have no builder form.
import type { SQL } from "bun";
import { createHash } from "node:crypto";
import type { EmbeddedMigration, MigrationStatus } from "../migration-types";

// drizzle-kit's bookkeeping table and schema, so `drizzle-kit migrate` and tgwh agree on what ran.
const TABLE = `"drizzle"."__drizzle_migrations"`;

/**
 * The migration lock: the two-int4 advisory lock space, apart from the int8 keys that chains lock
 * (chain.ts), so no order_key can ever hash onto it. 0x7467_7768 is "tgwh".
 */
const LOCK = "1952937832, 1";

async function lastAppliedMillis(sql: SQL): Promise<number> {
  const [exists] = await sql.unsafe<{ t: string | null }[]>(`SELECT to_regclass('drizzle.__drizzle_migrations')::text AS t`);
  if (!exists?.t) return 0;
  const [row] = await sql.unsafe<{ last: string | null }[]>(`SELECT max(created_at)::text AS last FROM ${TABLE}`);
  return Number(row?.last ?? 0);
}

export async function migrationStatus(sql: SQL, migrations: readonly EmbeddedMigration[]): Promise<MigrationStatus> {
  const last = await lastAppliedMillis(sql);
  return {
    applied: migrations.filter((m) => m.when <= last).map((m) => m.tag),
    pending: migrations.filter((m) => m.when > last).map((m) => m.tag),
  };
}

/**
 * Applies the embedded migrations newer than the last applied one. Gateways that start together
 * serialise on a session advisory lock held on one reserved connection: the first applies, the
 * others wait and then find nothing left to do. Each migration runs in its own transaction with
 * its bookkeeping row, so a failing one leaves the earlier ones applied and itself not at all.
 */
export async function applyMigrations(sql: SQL, migrations: readonly EmbeddedMigration[]): Promise<string[]> {
  const conn = await sql.reserve();
  try {
    await conn.unsafe(`SELECT pg_advisory_lock(${LOCK})`);
    try {
      await conn.unsafe(`CREATE SCHEMA IF NOT EXISTS "drizzle"`);
      await conn.unsafe(`CREATE TABLE IF NOT EXISTS ${TABLE} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`);
      const last = await lastAppliedMillis(conn);
      const applied: string[] = [];
      for (const m of migrations) {
        if (m.when <= last) continue;
        const hash = createHash("sha256").update(m.sql).digest("hex");
        await conn.begin(async (tx) => {
          for (const stmt of m.sql.split("--> statement-breakpoint")) {
            if (stmt.trim()) await tx.unsafe(stmt);
          }
          await tx.unsafe(`INSERT INTO ${TABLE} (hash, created_at) VALUES ($1, $2)`, [hash, m.when]);
        });
        applied.push(m.tag);
      }
      return applied;
    } finally {
      await conn.unsafe(`SELECT pg_advisory_unlock(${LOCK})`).catch(() => {});
    }
  } finally {
    await conn.release();
  }
}
