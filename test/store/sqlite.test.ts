import { Database } from "bun:sqlite";
import { expect } from "bun:test";
import { join } from "node:path";
import { createSqliteStore } from "../../src/store/sqlite";
import { applyMigrations } from "../../src/store/sqlite/migrate";
import { embeddedMigrations } from "../../src/store/sqlite/migrations";
import { removeDir, tempDir } from "../support/tgwh";
import { storeContract, type StoreFactory } from "./contract";

/**
 * The store contract on a real SQLite file, opened as `tgwh serve` opens it (FULL, WAL synced off
 * the event loop), once per chain mode (store/sqlite/chains/chain-order.ts): a file tgwh created
 * (the lists), and a file an earlier release created and this one migrated (the jobs_chain index).
 */
function sqliteFactory(mode: "list" | "index"): StoreFactory {
  return async (clock) => {
    const dir = tempDir();
    const path = join(dir, "contract.db");
    if (mode === "index") {
      const earlier = new Database(path, { create: true, strict: true });
      applyMigrations(earlier, embeddedMigrations.filter((m) => m.tag < "0003"));
      earlier.close();
    }
    const open = () => createSqliteStore({ path, synchronous: "FULL", busyTimeoutMs: 1000, migrate: true, clock });
    let store = open();
    expect(await store.chainMode()).toBe(mode);
    return {
      store,
      async reopen() {
        await store.close();
        store = open();
        return store;
      },
      async destroy() {
        await store.close();
        removeDir(dir);
      },
    };
  };
}

storeContract("sqlite", sqliteFactory("list"));
storeContract("sqlite, chains by index (a file from before 0003)", sqliteFactory("index"));
