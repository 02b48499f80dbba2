// Raw prepared SQL: per-chat order through the jobs_chain index (the mode every release before
// 0003 used; chain-order.ts). Both statements pin the index, so they fail once it is gone.
import type { Database } from "bun:sqlite";
import type { ChainOrder } from "./chain-order";

export function createIndexedChains(sqlite: Database): ChainOrder {
  const busy = sqlite.prepare<{ one: number }, [string]>(
    "SELECT 1 AS one FROM jobs INDEXED BY jobs_chain WHERE order_key = ? AND state IN ('pending', 'running') LIMIT 1",
  );
  // The chain's first unfinished job in (seq, id) order gets the turn, unless it holds it already.
  const advance = sqlite.prepare<unknown, [string]>(
    `UPDATE jobs SET ready = 1 WHERE id = (
       SELECT id FROM jobs INDEXED BY jobs_chain
       WHERE order_key = ?1 AND state IN ('pending', 'running') ORDER BY seq, id LIMIT 1)
     AND ready = 0`,
  );
  return {
    // The index orders the chain by seq by itself: a waiting job needs no link.
    place: (orderKey) => (busy.get(orderKey) ? { prevId: null, successor: null } : null),
    join() {},
    handOff: (orderKey) => void advance.run(orderKey),
  };
}
