// Raw prepared SQL: per-chat order as linked lists (job_chains + jobs.prev_id; chain-order.ts).
import type { Database } from "bun:sqlite";
import type { ChainOrder, ChainPlace } from "./chain-order";

interface Link {
  id: number;
  seq: number;
  ready: number;
  prevId: number | null;
}

export function createLinkedChains(sqlite: Database): ChainOrder {
  const tailOf = sqlite.prepare<{ tailId: number; tailSeq: number }, [string]>(
    "SELECT tail_id AS tailId, tail_seq AS tailSeq FROM job_chains WHERE order_key = ?",
  );
  const setTail = sqlite.prepare<unknown, [string, number, number]>(
    "INSERT INTO job_chains (order_key, tail_id, tail_seq) VALUES (?1, ?2, ?3) ON CONFLICT (order_key) DO UPDATE SET tail_id = ?2, tail_seq = ?3",
  );
  const linkOf = sqlite.prepare<Link, [number]>("SELECT id, seq, ready, prev_id AS prevId FROM jobs WHERE id = ?");
  const relink = sqlite.prepare<unknown, [number, number]>("UPDATE jobs SET prev_id = ?1 WHERE id = ?2");
  const readySuccessor = sqlite.prepare<unknown, [number]>(
    "UPDATE jobs SET ready = 1 WHERE prev_id = ? AND state = 'pending' AND ready = 0",
  );
  const endChainAt = sqlite.prepare<unknown, [string, number]>("DELETE FROM job_chains WHERE order_key = ? AND tail_id = ?");

  /**
   * A late job (seq below the tail's: a redelivery that reached the other gateway of a pair first,
   * or the admin's retry of a dead job) goes after the last waiting job whose seq is not higher,
   * walking back from the tail; never before the head, which may be running already.
   */
  function placeLate(tailId: number, seq: number): ChainPlace {
    let successor: number | null = null;
    let cur = linkOf.get(tailId)!;
    while (cur.ready === 0 && cur.seq > seq && cur.prevId !== null) {
      successor = cur.id;
      cur = linkOf.get(cur.prevId)!;
    }
    return { prevId: cur.id, successor };
  }

  return {
    place(orderKey, seq) {
      const tail = tailOf.get(orderKey);
      if (!tail) return null;
      return seq >= tail.tailSeq ? { prevId: tail.tailId, successor: null } : placeLate(tail.tailId, seq);
    },
    join(orderKey, id, seq, place) {
      if (place?.successor) relink.run(id, place.successor);
      else setTail.run(orderKey, id, seq);
    },
    handOff(orderKey, endedId) {
      readySuccessor.run(endedId);
      endChainAt.run(orderKey, endedId);
    },
  };
}
