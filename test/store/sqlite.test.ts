import { join } from "node:path";
import { createSqliteStore } from "../../src/store/sqlite";
import { removeDir, tempDir } from "../support/tgwh";
import { storeContract } from "./contract";

/** The store contract on a real SQLite file, opened as `tgwh serve` opens it (FULL, WAL synced off the event loop). */
storeContract("sqlite", async (clock) => {
  const dir = tempDir();
  const path = join(dir, "contract.db");
  const open = () => createSqliteStore({ path, synchronous: "FULL", busyTimeoutMs: 1000, migrate: true, clock });
  let store = open();
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
});
