/**
 * Prototype schema (issue 17): the job row without its payload, and fewer indexes on the insert
 * path. The payload goes to an append-only table keyed by the job id, written once and never
 * rewritten, so a claim or a finish rewrites a ~70-byte row (≈50 per page) instead of a
 * ~460-byte one (≈8 per page). No AUTOINCREMENT (its sqlite_sequence page is rewritten by every
 * commit), no (state, kind, id) index (admin listing and stats would use the partial ones).
 */
import type { Database } from "bun:sqlite";

export const NARROW_SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, dedupe_key TEXT NOT NULL, order_key TEXT,
  seq INTEGER NOT NULL DEFAULT 0, ready INTEGER NOT NULL DEFAULT 1, state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL, run_at INTEGER NOT NULL,
  lease_until INTEGER, lease_owner TEXT, last_error TEXT, errors TEXT,
  created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER);
CREATE TABLE IF NOT EXISTS job_payloads (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_dedupe_key ON jobs (dedupe_key);
CREATE INDEX IF NOT EXISTS jobs_claim ON jobs (run_at, id) WHERE state = 'pending' AND ready = 1;
CREATE INDEX IF NOT EXISTS jobs_chain ON jobs (order_key, seq, id) WHERE state IN ('pending', 'running') AND order_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_lease ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (finished_at) WHERE state = 'done';
`;

export interface InsertRow {
  dedupeKey: string;
  orderKey: string | null;
  seq: number;
  payload: string;
}

/** Inserts a batch (caller's transaction); returns for each row whether it was new. */
export function narrowInserter(db: Database) {
  db.run(NARROW_SCHEMA);
  const chainBusy = db.prepare<{ one: number }, [string]>("SELECT 1 AS one FROM jobs WHERE order_key = ? AND state IN ('pending', 'running') LIMIT 1");
  const insert = db.prepare<{ id: number }, [string, string | null, number, number, number, number]>(
    `INSERT INTO jobs (kind, dedupe_key, order_key, seq, ready, max_attempts, run_at, created_at)
     VALUES ('telegram.update', ?, ?, ?, ?, 8, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
  );
  const payload = db.prepare<unknown, [number, string]>("INSERT INTO job_payloads (id, payload) VALUES (?, ?)");
  return (rows: readonly InsertRow[], now: number): boolean[] =>
    rows.map((r) => {
      const ready = r.orderKey !== null && chainBusy.get(r.orderKey) ? 0 : 1;
      const row = insert.get(r.dedupeKey, r.orderKey, r.seq, ready, now, now);
      if (!row) return false;
      payload.run(row.id, r.payload);
      return true;
    });
}
