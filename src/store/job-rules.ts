import type { AttemptError } from "./types";

/**
 * Rules of the job table that are not SQL, shared by every engine and tested alone.
 *
 * The chain rule (per-chat order). Jobs sharing an order_key form a chain that runs one job at a
 * time in (seq, id) order. Exactly one unfinished job of a chain, its head, has ready = 1:
 * - insert: a job is ready when nothing of its order_key is pending or running, else it waits;
 * - a head that ends (done, discarded, dead, or dead by an expired lease) hands the turn to its
 *   chain's first pending-or-running job in (seq, id) order, unless one holds it already;
 * - a head that is retried (back to pending with a later run_at) keeps the turn: the chain waits;
 * - an operator's retry of a dead job follows the insert rule, and its low seq puts it next.
 * The claim only ever looks at ready pending jobs, so it needs no knowledge of chains.
 */
export function readyOnInsert(orderKey: string | null, chainBusy: (orderKey: string) => boolean): 0 | 1 {
  return orderKey !== null && chainBusy(orderKey) ? 0 : 1;
}

/** Attempt errors kept per job: enough to see a pattern, bounded so a row stays small. */
export const MAX_KEPT_ERRORS = 20;

/** Appends one attempt's error to the JSON history, keeping the newest MAX_KEPT_ERRORS. */
export function appendAttemptError(history: string | null, entry: AttemptError): string {
  let list: AttemptError[] = [];
  if (history) {
    try {
      const parsed = JSON.parse(history);
      if (Array.isArray(parsed)) list = parsed;
    } catch {
      list = [];
    }
  }
  list.push(entry);
  return JSON.stringify(list.slice(-MAX_KEPT_ERRORS));
}

/** Upper bound of one `retry-dead` call: a large backlog is retried in several bounded steps. */
export const RETRY_DEAD_MAX = 1000;

/**
 * Counts in the queue snapshot stop here: a scrape walks at most this many index entries per
 * (state, kind), so it stays a few milliseconds at a million pending jobs. Alert thresholds sit
 * far below it.
 */
export const QUEUE_COUNT_LIMIT = 20_000;

/** States counted (capped) in the snapshot; done jobs, the bulk under retention, are estimated. */
export const COUNTED_STATES = ["pending", "running", "discarded", "dead"] as const;

/** Rows deleted per prune transaction: no commit runs long. */
export const PRUNE_BATCH = 2000;
