// Raw SQL: a conditional upsert with RETURNING and a counted bulk delete, one statement each.
import type { InitDataReplayStore } from "../types";
import type { Writer } from "./commit/writer";
import type { Db } from "./connection";

/**
 * The `init_data_replays` table. Statements are compiled on first use (bun:sqlite caches them per
 * text), so a store opened on an older file without migrating still opens.
 */
export function createSqliteInitDataReplayStore(db: Db, writer: Writer): InitDataReplayStore {
  const { sqlite } = db;
  // A row left over from an expired use (not pruned yet) counts as free again.
  const CLAIM = `INSERT INTO init_data_replays (hash, expires_at) VALUES (?1, ?2)
     ON CONFLICT (hash) DO UPDATE SET expires_at = excluded.expires_at WHERE init_data_replays.expires_at <= ?3
     RETURNING hash`;
  const PRUNE = "DELETE FROM init_data_replays WHERE expires_at <= ?1";
  return {
    firstUse: (hash, expiresAt, now) => writer.run(() => sqlite.query<{ hash: string }, [string, number, number]>(CLAIM).get(hash, expiresAt, now) !== null),
    prune: (now) => writer.run(() => sqlite.query<unknown, [number]>(PRUNE).run(now).changes),
  };
}
