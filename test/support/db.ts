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
