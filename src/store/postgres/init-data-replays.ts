// Raw SQL: a conditional upsert with RETURNING and a counted delete, one statement each.
import type { InitDataReplayStore } from "../types";
import type { Pg } from "./connection";

// A row left over from an expired use (not pruned yet) counts as free again. One statement: two
// gateways given the same initData at once cannot both see it as new.
const FIRST_USE = `INSERT INTO init_data_replays (hash, expires_at) VALUES ($1, $2)
  ON CONFLICT (hash) DO UPDATE SET expires_at = excluded.expires_at WHERE init_data_replays.expires_at <= $3
  RETURNING hash`;
const PRUNE = "DELETE FROM init_data_replays WHERE expires_at <= $1";

export function createPgInitDataReplayStore({ sql }: Pg): InitDataReplayStore {
  return {
    firstUse: async (hash, expiresAt, now) => (await sql.unsafe(FIRST_USE, [hash, expiresAt, now])).length > 0,
    prune: async (now) => (await sql.unsafe(PRUNE, [now])).count,
  };
}
