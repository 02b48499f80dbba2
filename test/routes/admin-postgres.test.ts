import { HAVE_POSTGRES, sharedPostgres } from "../support/postgres";
import { startTestService } from "../support/service";
import { adminRouteTests } from "./admin-suite";

/** The same admin route tests on a real PostgreSQL (a fresh database per service), TGWH_DB unset. */
if (HAVE_POSTGRES) {
  adminRouteTests("postgres", async (env = {}) => {
    const db = await (await sharedPostgres()).createDatabase();
    const t = await startTestService({ TGWH_DATABASE_URL: db.url, TGWH_DB: "", ...env });
    return {
      ...t,
      async close() {
        await t.close();
        await db.drop();
      },
    };
  });
}
