import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { postgresFacts, redisFacts } from "../../src/cli/doctor-shared";
import { postgresChecks, redisChecks, type PostgresFacts } from "../../src/cli/doctor-shared-checks";
import { connectHint } from "../../src/store/postgres/errors";
import { HAVE_POSTGRES, PG_PASSWORD, sharedPostgres, type TestPostgres } from "../support/postgres";
import { freePort, HAVE_REDIS, startRedis, type TestRedis } from "../support/redis";

const healthy: PostgresFacts = {
  location: "postgres://tgwh@db:5432/tgwh",
  connectError: null,
  sessionSynchronousCommit: "on",
  synchronousCommitSource: "client",
  standby: false,
  serverVersion: "15.18",
  pendingMigrations: [],
  appliedMigrations: 1,
};
const statuses = (r: { name: string; status: string }[]) => r.map((c) => `${c.name}:${c.status}`);

describe("doctor's PostgreSQL and Redis judgements", () => {
  test("a healthy primary, migrated, commits durable", () => {
    expect(statuses(postgresChecks(healthy))).toEqual(["database:OK", "migrations:OK", "synchronous_commit:OK"]);
    expect(postgresChecks(healthy)[2]!.detail).toContain("set by tgwh on each connection");
  });

  test("each failure says what to do", () => {
    const refused = postgresChecks({ ...healthy, connectError: { code: "ERR_POSTGRES_CONNECTION_REFUSED", message: "Failed to connect" } });
    expect(statuses(refused)).toEqual(["database:FAIL"]);
    expect(refused[0]!.hint).toContain("listen_addresses");
    expect(connectHint("28P01")).toContain("password");
    expect(connectHint("3D000")).toContain("createdb");
    expect(statuses(postgresChecks({ ...healthy, standby: true }))).toEqual(["database:FAIL", "migrations:OK", "synchronous_commit:OK"]);
    expect(statuses(postgresChecks({ ...healthy, pendingMigrations: ["0001_x"] }))[1]).toBe("migrations:FAIL");
    expect(statuses(postgresChecks({ ...healthy, pendingMigrations: null }))[1]).toBe("migrations:FAIL");
    const off = postgresChecks({ ...healthy, sessionSynchronousCommit: "off", synchronousCommitSource: "configuration file" });
    expect(off[2]).toMatchObject({ status: "FAIL" });
    expect(off[2]!.hint).toContain("pooler");
  });

  test("Redis: unused on one VM is fine, missing beside a shared store warns, down warns with the fallback", () => {
    expect(statuses(redisChecks({ configured: false, sharedStore: false, location: null, error: null, pingMs: null }))).toEqual(["redis:OK"]);
    expect(statuses(redisChecks({ configured: false, sharedStore: true, location: null, error: null, pingMs: null }))).toEqual(["redis:WARN"]);
    const down = redisChecks({ configured: true, sharedStore: true, location: "redis://r:6379", error: "Connection refused", pingMs: null });
    expect(down[0]).toMatchObject({ status: "WARN" });
    expect(down[0]!.hint).toContain("local limits");
  });
});

describe.skipIf(!HAVE_POSTGRES)("doctor's facts from a real PostgreSQL", () => {
  let server: TestPostgres;
  beforeAll(async () => {
    server = await sharedPostgres();
  }, 60_000);

  test("migrated, empty, wrong password, missing database, nothing listening", async () => {
    const db = await server.createDatabase();
    const empty = await server.createEmptyDatabase();
    try {
      expect(statuses(postgresChecks(await postgresFacts(db.url, 3000)))).toEqual(["database:OK", "migrations:OK", "synchronous_commit:OK"]);
      expect(statuses(postgresChecks(await postgresFacts(empty.url, 3000)))).toEqual(["database:OK", "migrations:FAIL", "synchronous_commit:OK"]);
      const wrong = await postgresFacts(db.url.replace(encodeURIComponent(PG_PASSWORD), "wrong-password"), 3000);
      expect(wrong.connectError?.code).toBe("28P01");
      expect(JSON.stringify(postgresChecks(wrong))).not.toContain("wrong-password");
      const missing = await postgresFacts(server.url("no_such_db"), 3000);
      expect(missing.connectError?.code).toBe("3D000");
      const nobody = await postgresFacts(`postgres://tgwh:x@127.0.0.1:${await freePort()}/tgwh`, 3000);
      expect(postgresChecks(nobody)[0]!.status).toBe("FAIL");
    } finally {
      await db.drop();
      await empty.drop();
    }
  }, 30_000);
});

describe.skipIf(!HAVE_REDIS)("doctor's facts from a real Redis", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis({ password: "doctor-redis-pw" });
  }, 30_000);
  afterAll(async () => {
    await redis?.dispose();
  });

  test("answers PING; then, stopped, does not; the password never shows", async () => {
    const up = await redisFacts({ redisUrl: redis.url, databaseUrl: null }, 2000);
    expect(up.error).toBeNull();
    expect(redisChecks(up)[0]!.status).toBe("OK");
    expect(up.location).toBe(`redis://127.0.0.1:${redis.port}`);
    await redis.stop();
    const down = await redisFacts({ redisUrl: redis.url, databaseUrl: "postgres://x@y/z" }, 1000);
    expect(redisChecks(down)[0]!.status).toBe("WARN");
    expect(JSON.stringify(down)).not.toContain("doctor-redis-pw");
  }, 30_000);
});
