import { beforeAll } from "bun:test";
import { createPostgresStore } from "../../src/store/postgres";
import { HAVE_POSTGRES, sharedPostgres } from "../support/postgres";
import { storeContract } from "./contract";

/**
 * The store contract on a real PostgreSQL 15 (test/support/postgres.ts): each test gets a fresh
 * database copied from a migrated template, opened as `tgwh serve` opens it.
 */
if (HAVE_POSTGRES) {
  // The server starts once (initdb, template) before the first test's factory runs.
  beforeAll(async () => {
    await sharedPostgres();
  }, 60_000);
  storeContract("postgres", async (clock) => {
    const server = await sharedPostgres();
    const db = await server.createDatabase();
    const open = () => createPostgresStore({ url: db.url, applicationName: "tgwh contract", migrate: true, clock, maxConnections: 4 });
    let store = await open();
    return {
      store,
      async reopen() {
        await store.close();
        store = await open();
        return store;
      },
      async destroy() {
        await store.close();
        await db.drop();
      },
    };
  });
}
