// Which of the two per-chat order structures a database keeps, and the interface both implement.
import type { Database } from "bun:sqlite";

/**
 * Per-chat order (job-rules.ts has the rule) is kept one of two ways, chosen by the database:
 * - `index`: the jobs_chain index over (order_key, seq, id) of every unfinished job. Every release
 *   before 0003 works this way, so a database an older binary may still open (a canary pair)
 *   stays here. Each insert and finish writes a leaf of that index keyed by chat, i.e. a random
 *   page per job under a burst over many chats: the cost measured in docs/performance.md.
 * - `list`: each waiting job names the job it waits for (jobs.prev_id) and job_chains holds each
 *   busy chat's tail. A new job touches one small row per chat; a finish readies its successor
 *   through jobs_next, whose keys are recent ids. jobs_chain is dropped. Fresh databases start
 *   here; an existing one moves with `tgwh migrate --chain-list` (adopt.ts).
 * The mode is the presence of the jobs_chain index: an older binary pins that index in its
 * statements (INDEXED BY), so on a list-mode file it fails loudly instead of breaking the order.
 */
export type ChainMode = "index" | "list";

/** Where a new or revived job goes in its chain (null from `place`: the chain is idle, it runs now). */
export interface ChainPlace {
  /** The job it waits for (list mode); null in the index mode, where seq order is the index's. */
  prevId: number | null;
  /** The waiting job that will wait for the new one instead (a late arrival); null at the tail. */
  successor: number | null;
}

/** The chain operations the insert, the finish, lease expiry and the admin's retry run in their transaction. */
export interface ChainOrder {
  /** Where a job of `orderKey` with this seq goes; null when nothing of its chain is unfinished. */
  place(orderKey: string, seq: number): ChainPlace | null;
  /** Links the job just written (`id`) in at `place`. */
  join(orderKey: string, id: number, seq: number, place: ChainPlace | null): void;
  /** The chain's running job `endedId` ended (done, discarded, dead): the next one gets the turn. */
  handOff(orderKey: string, endedId: number): void;
}

export function chainModeOf(sqlite: Database): ChainMode {
  return sqlite.query("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'jobs_chain'").get() ? "index" : "list";
}
