import type { Config } from "../config";
import { createSqliteStore, type SqliteStoreOptions } from "./sqlite";
import type { Store } from "./types";

/** How a caller wants the store opened; engine-specific knobs stay inside each engine. */
export type OpenStoreOptions = Pick<
  SqliteStoreOptions,
  "migrate" | "mustExist" | "checkpointThread" | "onCommit" | "onCommitFailure" | "clock"
>;

/**
 * Opens the configured store: the one place that picks the engine. Today SQLite at TGWH_DB;
 * stage 2 adds PostgreSQL when TGWH_DATABASE_URL is set. Async because a server engine connects
 * (and migrates) before it can answer.
 */
export async function openStore(cfg: Pick<Config, "dbPath" | "synchronous" | "busyTimeoutMs">, opts: OpenStoreOptions): Promise<Store> {
  return createSqliteStore({ path: cfg.dbPath, synchronous: cfg.synchronous, busyTimeoutMs: cfg.busyTimeoutMs, ...opts });
}
