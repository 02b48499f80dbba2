import { Database } from "bun:sqlite";

/** Reads the binary's database from the test, read-only, closing it after `fn`. */
export function withDb<T>(path: string, fn: (db: Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export interface JobFacts {
  state: string;
  attempts: number;
  last_error: string | null;
  seq: number;
}

export const jobOfUpdate = (path: string, updateId: number) =>
  withDb(path, (db) => db.query("SELECT state, attempts, last_error, seq FROM jobs WHERE dedupe_key = ?").get(`update:${updateId}`) as JobFacts | null);

export const countJobs = (path: string, where = "1=1") =>
  withDb(path, (db) => (db.query(`SELECT count(*) AS n FROM jobs WHERE ${where}`).get() as { n: number }).n);

/**
 * Arranges a job that already died (attempts used up), the way the worker leaves one, in the
 * binary's database while it runs. Returns its id. Used by the admin API/CLI retry tests.
 */
export function insertDeadJob(
  path: string,
  opts: { dedupeKey: string; kind?: string; orderKey?: string | null; seq?: number; payload: unknown; /** Stored as is instead of JSON.stringify(payload). */ payloadText?: string },
): number {
  const db = new Database(path);
  try {
    db.run("PRAGMA busy_timeout = 5000");
    const now = Date.now();
    const row = db
      .query(
        `INSERT INTO jobs (kind, dedupe_key, order_key, seq, ready, payload, state, attempts, max_attempts, run_at, created_at, started_at, finished_at, last_error, errors)
         VALUES (?, ?, ?, ?, 1, ?, 'dead', 3, 3, ?, ?, ?, ?, 'Bad Gateway (502)', ?) RETURNING id`,
      )
      .get(
        opts.kind ?? "notify.send",
        opts.dedupeKey,
        opts.orderKey ?? null,
        opts.seq ?? 0,
        opts.payloadText ?? JSON.stringify(opts.payload),
        now,
        now,
        now,
        now,
        JSON.stringify([{ attempt: 3, at: now, error: "Bad Gateway (502)" }]),
      ) as { id: number };
    return row.id;
  } finally {
    db.close();
  }
}
