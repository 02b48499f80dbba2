// Raw SQL: advisory locks, and statements that must match the partial index jobs_chain literally.
import type { SQL } from "bun";

/**
 * Per-chat order across gateways. The chain rule (job-rules.ts) is "look at the chain, then
 * insert or hand the turn on"; with several gateways two such steps on one order_key must not
 * interleave, or an insert that saw the head running (so it waits, ready = 0) could commit after
 * the head's finish looked for a successor and found none: that chat would wait forever.
 * Every transaction that reads or changes a chain's turn (insert, finish, a lease expiring into
 * dead, an operator's retry) first takes a transaction advisory lock per order_key it touches:
 * - the key is hashtextextended(order_key, 0), an int8: two keys sharing a hash only serialise
 *   more than needed;
 * - keys are taken in one sorted order, so two transactions never wait on each other in a cycle;
 * - the lock is its own statement, before any read of the chain: under READ COMMITTED every later
 *   statement then sees what the previous holder committed.
 * The claim needs no lock: it only takes `ready = 1` jobs, and a chain has at most one.
 */
export async function lockChains(tx: SQL, orderKeys: Iterable<string | null>): Promise<void> {
  const keys = [...new Set([...orderKeys].filter((k): k is string => k !== null))].sort();
  if (keys.length === 0) return;
  // unnest returns the array in order, so the locks are taken in the sorted order.
  await tx.unsafe("SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k", [keys]);
}

/** Is anything of this chain but job `id` pending or running? (an operator's retry of a dead job). */
export async function chainBusyOther(tx: SQL, orderKey: string, id: number): Promise<boolean> {
  const rows = await tx.unsafe("SELECT 1 FROM jobs WHERE order_key = $1 AND state IN ('pending', 'running') AND id <> $2 LIMIT 1", [orderKey, id]);
  return rows.length > 0;
}

/**
 * Hands each chain's turn to its first pending-or-running job in (seq, id) order unless that one
 * holds it already: after the head ended (done, discarded, dead), under the chain's lock.
 */
export const ADVANCE_CHAINS = `UPDATE jobs SET ready = 1 WHERE id IN (
    SELECT (SELECT id FROM jobs WHERE order_key = k AND state IN ('pending', 'running') ORDER BY seq, id LIMIT 1)
    FROM unnest($1::text[]) AS k)
  AND ready = 0`;

export async function advanceChains(tx: SQL, orderKeys: Iterable<string | null>): Promise<void> {
  const keys = [...new Set([...orderKeys].filter((k): k is string => k !== null))];
  if (keys.length === 0) return;
  await tx.unsafe(ADVANCE_CHAINS, [keys]);
}

/**
 * Gives a chain that has no head (no pending-or-running job with ready = 1) its first one in
 * (seq, id) order. Only insert's rare lost-race path needs it; everywhere else the rule's own
 * bookkeeping keeps exactly one head.
 */
export async function settleChains(tx: SQL, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await tx.unsafe(
    `UPDATE jobs SET ready = 1 WHERE id IN (
       SELECT (SELECT id FROM jobs WHERE order_key = k AND state IN ('pending', 'running') ORDER BY seq, id LIMIT 1)
       FROM unnest($1::text[]) AS k
       WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE order_key = k AND state IN ('pending', 'running') AND ready = 1))
     AND ready = 0`,
    [keys],
  );
}
