import type { Database } from "bun:sqlite";
import type { Writer } from "./writer";

/**
 * The `init_data_replays` table: every initData `hash` that signed someone in, kept until that
 * initData expires. All of its SQL is here (the store interface will take it over as it is).
 */
export interface InitDataReplays {
  /**
   * Records a first use. Resolves true once the hash is durably recorded as used until
   * expiresAt (unix ms); false when it was used before and has not expired (a replay).
   */
  firstUse(hash: string, expiresAt: number, now: number): Promise<boolean>;
  /** Deletes rows expired before `now`; resolves with how many. */
  prune(now: number): Promise<number>;
}

export function createInitDataReplays(sqlite: Database, writer: Writer): InitDataReplays {
  // A row left over from an expired use (not pruned yet) counts as free again.
  const claim = sqlite.prepare<{ hash: string }, [string, number, number]>(
    `INSERT INTO init_data_replays (hash, expires_at) VALUES (?1, ?2)
     ON CONFLICT (hash) DO UPDATE SET expires_at = excluded.expires_at WHERE init_data_replays.expires_at <= ?3
     RETURNING hash`,
  );
  const prune = sqlite.prepare<unknown, [number]>("DELETE FROM init_data_replays WHERE expires_at <= ?");
  return {
    firstUse: (hash, expiresAt, now) => writer.run(() => claim.get(hash, expiresAt, now) !== null),
    prune: (now) => writer.run(() => prune.run(now).changes),
  };
}
