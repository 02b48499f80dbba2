// Raw SQL: moves a database from the index mode to the list mode (chain-order.ts), once.
import type { Database } from "bun:sqlite";
import { chainModeOf } from "./chain-order";

interface ChainedJob {
  id: number;
  orderKey: string;
  seq: number;
  ready: number;
}

/**
 * Builds the lists from the unfinished jobs and drops jobs_chain, inside the caller's
 * transaction. Each chain keeps its head (the job holding the turn, running or about to), then
 * its waiting jobs in (seq, id) order, the order the index gave them. Returns false when the
 * database is in the list mode already. After it, a binary that predates 0003 fails on this file
 * (its statements name jobs_chain) rather than run without the lists.
 */
export function adoptChainList(sqlite: Database): boolean {
  if (chainModeOf(sqlite) === "list") return false;
  const chained = sqlite
    .query<ChainedJob, []>(
      `SELECT id, order_key AS orderKey, seq, ready FROM jobs INDEXED BY jobs_chain
       WHERE order_key IS NOT NULL AND state IN ('pending', 'running')
       ORDER BY order_key, ready DESC, seq, id`,
    )
    .all();
  const link = sqlite.prepare<unknown, [number | null, number, number]>("UPDATE jobs SET prev_id = ?, ready = ? WHERE id = ?");
  const setTail = sqlite.prepare<unknown, [string, number, number]>("INSERT INTO job_chains (order_key, tail_id, tail_seq) VALUES (?, ?, ?)");
  sqlite.run("DELETE FROM job_chains");
  sqlite.run("UPDATE jobs SET prev_id = NULL WHERE prev_id IS NOT NULL");
  for (let i = 0; i < chained.length; i++) {
    const job = chained[i]!;
    const prev = i > 0 && chained[i - 1]!.orderKey === job.orderKey ? chained[i - 1]! : null;
    // A chain with no job holding the turn (never left by tgwh) gets its first job as head, not a stall.
    if (prev) link.run(prev.id, 0, job.id);
    else if (!job.ready) link.run(null, 1, job.id);
    const last = i + 1 === chained.length || chained[i + 1]!.orderKey !== job.orderKey;
    if (last) setTail.run(job.orderKey, job.id, job.seq);
  }
  sqlite.run("DROP INDEX jobs_chain");
  return true;
}

/**
 * Back to the index mode (`tgwh migrate --chain-index`, before a rollback to a release that
 * predates 0003): the index as 0000 made it, so that release's statements plan on it again. Both
 * modes keep one job per chain ready and the rest in seq order, so the `ready` flags stay valid.
 * Returns false when the database is in the index mode already.
 */
export function returnToChainIndex(sqlite: Database): boolean {
  if (chainModeOf(sqlite) === "index") return false;
  sqlite.run(
    "CREATE INDEX `jobs_chain` ON `jobs` (`order_key`,`seq`,`id`) WHERE state IN ('pending', 'running') AND order_key IS NOT NULL",
  );
  sqlite.run("DELETE FROM job_chains");
  sqlite.run("UPDATE jobs SET prev_id = NULL WHERE prev_id IS NOT NULL");
  return true;
}

/**
 * For applyMigrations: a database this run created (it applied 0000 just now) starts in the list
 * mode, since no older binary can have it open.
 */
export function adoptWhenCreated(sqlite: Database): (applied: string[]) => void {
  return (applied) => {
    if (applied[0] === "0000_init") adoptChainList(sqlite);
  };
}
