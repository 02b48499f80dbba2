// Picks the chain operations for a database's mode (one row per mode) and keeps them current.
import type { Database } from "bun:sqlite";
import { createIndexedChains } from "./by-index";
import { createLinkedChains } from "./by-list";
import { chainModeOf, type ChainMode, type ChainOrder } from "./chain-order";

const IMPLEMENTATIONS: Record<ChainMode, (sqlite: Database) => ChainOrder> = {
  index: createIndexedChains,
  list: createLinkedChains,
};

/** The chain operations for this database's mode, prepared on its connection. */
export function createChainOrder(sqlite: Database): ChainOrder {
  return IMPLEMENTATIONS[chainModeOf(sqlite)](sqlite);
}

/** The chain operations of one connection, prepared on first use, and kept to the database's mode. */
export interface ChainAccess {
  current(): ChainOrder;
  /**
   * Called first in each write transaction (the writer's atBegin): when the schema changed since
   * the operations were prepared (`tgwh migrate --chain-list` from another process, or this
   * one's), they are prepared again for the mode the database is in now. One schema-cookie read
   * per group commit, so no write ever meets the other mode's structures half-way.
   */
  revalidate(): void;
}

export function createChainAccess(sqlite: Database): ChainAccess {
  const schemaVersion = sqlite.prepare<{ schema_version: number }, []>("PRAGMA schema_version");
  let order: ChainOrder | null = null;
  let preparedAt = -1;
  return {
    current() {
      if (!order) {
        preparedAt = schemaVersion.get()!.schema_version;
        order = createChainOrder(sqlite);
      }
      return order;
    },
    revalidate() {
      if (order && schemaVersion.get()!.schema_version !== preparedAt) order = null;
    },
  };
}
