// Raw SQL: the webhook's insert is the hottest statement of the service; one multi-row INSERT
// from arrays per tick, its conflict handling and the chain locks have no builder form.
import type { SQL } from "bun";
import { readyOnInsert } from "../job-rules";
import type { InsertResult, NewJob } from "../types";
import { lockChains, settleChains } from "./chain";

/**
 * What the batch's transaction needs to know before inserting, in one round trip: which chains
 * are busy, and which dedupe keys are stored already (with the stored job's id).
 */
export const LOOKUP = `SELECT 'busy' AS what, k AS key, NULL::int8 AS id FROM unnest($1::text[]) AS k
  WHERE EXISTS (SELECT 1 FROM jobs WHERE order_key = k AND state IN ('pending', 'running'))
  UNION ALL
  SELECT 'stored', dedupe_key, id FROM jobs WHERE dedupe_key = ANY($2::text[])`;

// ORDER BY ord: rows are inserted, and ids drawn, in the batch's order.
const INSERT = `INSERT INTO jobs (kind, dedupe_key, order_key, seq, ready, payload, max_attempts, run_at, created_at, state, attempts)
  SELECT kind, dedupe_key, order_key, seq, ready, payload, max_attempts, run_at, $9, 'pending', 0
  FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int4[], $6::text[], $7::int4[], $8::int8[])
    WITH ORDINALITY AS t(kind, dedupe_key, order_key, seq, ready, payload, max_attempts, run_at, ord)
  ORDER BY ord
  ON CONFLICT (dedupe_key) DO NOTHING
  RETURNING id, dedupe_key AS key`;

/**
 * Inserts one tick's jobs in one transaction, with the chain rule of job-rules.ts exactly as the
 * SQLite engine applies it: under the chain locks (chain.ts), a job with an order_key is ready
 * only when its chain had nothing pending or running and no earlier job of this batch joined it.
 * A dedupe_key stored before, or earlier in the batch, is not inserted again and answers with
 * the stored job's id.
 */
export async function insertBatch(sql: SQL, jobs: readonly NewJob[], now: number): Promise<InsertResult[]> {
  return sql.begin(async (tx) => {
    const orderKeys = [...new Set(jobs.map((j) => j.orderKey).filter((k): k is string => k !== null))];
    await lockChains(tx, orderKeys);
    const known = await tx.unsafe<{ what: "busy" | "stored"; key: string; id: string | null }[]>(LOOKUP, [orderKeys, jobs.map((j) => j.dedupeKey)]);
    const busy = new Set(known.filter((r) => r.what === "busy").map((r) => r.key));
    const stored = new Map(known.filter((r) => r.what === "stored").map((r) => [r.key, Number(r.id)]));

    const rows: { job: NewJob; ready: 0 | 1 }[] = [];
    const inBatch = new Set<string>();
    for (const j of jobs) {
      if (stored.has(j.dedupeKey) || inBatch.has(j.dedupeKey)) continue;
      inBatch.add(j.dedupeKey);
      const ready = readyOnInsert(j.orderKey, (k) => busy.has(k));
      if (j.orderKey !== null) busy.add(j.orderKey);
      rows.push({ job: j, ready });
    }

    const inserted = new Map<string, number>();
    if (rows.length > 0) {
      const col = <T>(f: (r: (typeof rows)[number]) => T) => rows.map(f);
      const out = await tx.unsafe<{ id: string; key: string }[]>(INSERT, [
        col((r) => r.job.kind),
        col((r) => r.job.dedupeKey),
        col((r) => r.job.orderKey),
        col((r) => r.job.seq),
        col((r) => r.ready),
        col((r) => r.job.payload),
        col((r) => r.job.maxAttempts),
        col((r) => r.job.runAt),
        now,
      ]);
      for (const r of out) inserted.set(r.key, Number(r.id));
      const lost = rows.filter((r) => !inserted.has(r.job.dedupeKey));
      if (lost.length > 0) await settleLostRace(tx, lost.map((r) => r.job), stored);
    }

    // The first job of the batch with an inserted key is the one stored; later ones are its duplicates.
    const answered = new Set<string>();
    return jobs.map((j): InsertResult => {
      const id = inserted.get(j.dedupeKey);
      if (id !== undefined && !answered.has(j.dedupeKey)) {
        answered.add(j.dedupeKey);
        return { id, inserted: true };
      }
      return { id: id ?? stored.get(j.dedupeKey) ?? 0, inserted: false };
    });
  });
}

/**
 * Rows that lost a race: another transaction inserted the same dedupe_key after this one looked
 * (possible only for a job without an order_key or with a different one than the stored job: the
 * chain lock orders everything else). Their ids come from the winner, and their chains are
 * settled in case this batch counted on a job that was not inserted (a later job of its chain
 * would otherwise wait for nothing).
 */
async function settleLostRace(tx: SQL, lost: NewJob[], stored: Map<string, number>): Promise<void> {
  const found = await tx.unsafe<{ id: string; key: string }[]>("SELECT id, dedupe_key AS key FROM jobs WHERE dedupe_key = ANY($1::text[])", [
    lost.map((j) => j.dedupeKey),
  ]);
  for (const r of found) stored.set(r.key, Number(r.id));
  await settleChains(tx, [...new Set(lost.map((j) => j.orderKey).filter((k): k is string => k !== null))]);
}
