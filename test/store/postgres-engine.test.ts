import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { MissingDatabaseError } from "../../src/store/types";
import { createPostgresStore, type PostgresStore } from "../../src/store/postgres";
import { applyMigrations, migrationStatus } from "../../src/store/postgres/migrate";
import { embeddedMigrations } from "../../src/store/postgres/migrations";
import type { NewJob } from "../../src/store/types";
import { HAVE_POSTGRES, PG_PASSWORD, sharedPostgres, type TestPostgres } from "../support/postgres";

/**
 * What only the PostgreSQL engine promises or must keep (the contract suite covers behaviour):
 * one transaction per tick, durable commits whatever the server says, migrations that gateways
 * may start together, and a URL whose password never shows.
 */
const now = 10_000_000;
const job = (seq: number, orderKey: string | null = null): NewJob => ({
  kind: "telegram.update",
  dedupeKey: `update:${seq}`,
  orderKey,
  seq,
  payload: "{}",
  maxAttempts: 3,
  runAt: now,
});

describe.skipIf(!HAVE_POSTGRES)("PostgreSQL engine", () => {
  let server: TestPostgres;
  let drops: (() => Promise<void>)[] = [];
  let stores: PostgresStore[] = [];
  beforeAll(async () => {
    server = await sharedPostgres();
  }, 60_000);
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const d of drops.splice(0)) await d();
  }, 30_000);
  const fresh = async (empty = false) => {
    const db = empty ? await server.createEmptyDatabase() : await server.createDatabase();
    drops.push(db.drop);
    return db;
  };
  const open = async (url: string, extra: Partial<Parameters<typeof createPostgresStore>[0]> = {}) => {
    const s = await createPostgresStore({ url, applicationName: "tgwh engine test", migrate: true, clock: () => now, ...extra });
    stores.push(s);
    return s;
  };

  describe("one transaction per tick", () => {
    test("inserts made in one turn of the event loop commit together", async () => {
      const db = await fresh();
      const commits: number[] = [];
      const store = await open(db.url, { onCommit: (ops) => commits.push(ops) });
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.jobs.insert([job(100 + i, `chat:${i % 5}`)])));
      expect(results.every(([r]) => r!.inserted)).toBe(true);
      expect(commits).toEqual([50]);
      // One head per chat: the first of each chain in the tick, as on SQLite.
      const ready = await store.internals.pg.sql.unsafe(`SELECT order_key, sum(ready)::int AS heads FROM jobs GROUP BY order_key`);
      expect(ready.every((r: { heads: number }) => r.heads === 1)).toBe(true);
    });

    test("a job the database refuses fails alone; the calls that shared its tick are stored", async () => {
      const db = await fresh();
      await server.admin("ALTER TABLE jobs ADD CONSTRAINT refuse_13 CHECK (seq <> 13)", [], db.name);
      const store = await open(db.url);
      const all = await Promise.allSettled([store.jobs.insert([job(12)]), store.jobs.insert([job(13)]), store.jobs.insert([job(14)])]);
      expect(all.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect((await store.jobs.list({ limit: 10 })).map((j) => j.seq).sort()).toEqual([12, 14]);
    });

    test("a tick's finishes of every kind go together, each answered for itself, chains handed on", async () => {
      const db = await fresh();
      const store = await open(db.url);
      await store.jobs.insert([job(1, "chat:A"), job(2, "chat:A"), job(3, "chat:B"), job(4, "chat:B"), job(5), job(6), job(7, "chat:C")]);
      const { jobs } = await store.jobs.claim({ owner: "w/1", leaseMs: 10_000, limit: 10, now });
      const by = (seq: number) => jobs.find((j) => j.seq === seq)!;
      const t = (seq: number, owner = "w/1") => ({ id: by(seq).id, owner, orderKey: by(seq).orderKey, attempts: by(seq).attempts, errors: null });
      const results = await Promise.all([
        store.jobs.finish(t(1), { type: "done", error: null }),
        store.jobs.finish(t(3), { type: "discarded", error: "403\u0000blocked" }),
        store.jobs.finish(t(5), { type: "retry", runAt: now + 1, error: "later", spendAttempt: false }),
        store.jobs.finish(t(6, "someone-else"), { type: "done", error: null }),
        store.jobs.finish(t(7), { type: "dead", error: "gave up" }),
      ]);
      expect(results).toEqual([true, true, true, false, true]);
      expect((await store.jobs.byId(by(3).id))!.lastError).toBe("403\uFFFDblocked");
      expect((await store.jobs.byId(by(5).id))).toMatchObject({ state: "pending", attempts: 0 });
      expect((await store.jobs.byId(by(6).id))!.state).toBe("running");
      const next = await store.jobs.claim({ owner: "w/1", leaseMs: 10_000, limit: 10, now: now + 1 });
      expect(next.jobs.map((j) => j.seq).sort()).toEqual([2, 4, 5]);
    });

    test("close() waits for queued inserts to commit", async () => {
      const db = await fresh();
      const store = await createPostgresStore({ url: db.url, applicationName: "t", migrate: true });
      const pending = store.jobs.insert([job(1)]);
      await store.close();
      expect((await pending)[0]!.inserted).toBe(true);
      const again = await open(db.url);
      expect(await again.jobs.byDedupeKey("update:1")).not.toBeNull();
    });
  });

  describe("durable commits", () => {
    test("synchronous_commit is on in every session, even where the database and role turn it off", async () => {
      const db = await fresh();
      await server.admin(`ALTER DATABASE ${db.name} SET synchronous_commit = off`);
      await server.admin(`ALTER ROLE tgwh IN DATABASE ${db.name} SET synchronous_commit = off`);
      const store = await open(db.url, { maxConnections: 3 });
      const seen = await Promise.all(
        Array.from({ length: 6 }, () => store.internals.pg.sql.begin(async (tx) => (await tx.unsafe("SHOW synchronous_commit"))[0].synchronous_commit)),
      );
      expect(new Set(seen)).toEqual(new Set(["on"]));
      expect(await store.health.writable()).toEqual({ ok: true });
    });
  });

  describe("migrations", () => {
    test("several migrators on an empty database at once: one applies, the others find nothing to do", async () => {
      const db = await fresh(true);
      const pools = Array.from({ length: 5 }, () => new SQL({ url: db.url, max: 2 }));
      try {
        expect(await migrationStatus(pools[0]!, embeddedMigrations)).toEqual({ applied: [], pending: embeddedMigrations.map((m) => m.tag) });
        const results = await Promise.all(pools.map((p) => applyMigrations(p, embeddedMigrations)));
        expect(results.filter((r) => r.length > 0)).toEqual([embeddedMigrations.map((m) => m.tag)]);
        const [rows] = await pools[0]!.unsafe(`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`);
        expect(rows.n).toBe(embeddedMigrations.length);
        expect((await migrationStatus(pools[0]!, embeddedMigrations)).pending).toEqual([]);
      } finally {
        await Promise.all(pools.map((p) => p.close()));
      }
    });

    test("gateways starting together on an empty database all come up on one schema", async () => {
      const db = await fresh(true);
      const all = await Promise.all(Array.from({ length: 4 }, () => open(db.url, { maxConnections: 2 })));
      await all[0]!.jobs.insert([job(1)]);
      expect((await all[3]!.jobs.byDedupeKey("update:1"))!.seq).toBe(1);
    });

    test("a failing migration leaves the ones before it applied and itself not at all", async () => {
      const db = await fresh(true);
      const sql = new SQL({ url: db.url, max: 1 });
      try {
        const broken = [
          ...embeddedMigrations,
          { tag: "9999_broken", when: Number.MAX_SAFE_INTEGER, breakpoints: true, sql: "CREATE TABLE half_done (x int);--> statement-breakpoint\nSELECT no_such_function();" },
        ];
        await expect(applyMigrations(sql, broken)).rejects.toThrow(/no_such_function/);
        const [t] = await sql.unsafe(`SELECT to_regclass('half_done')::text AS t, to_regclass('jobs')::text AS jobs`);
        expect(t).toEqual({ t: null, jobs: "jobs" });
        expect(await migrationStatus(sql, broken)).toEqual({ applied: embeddedMigrations.map((m) => m.tag), pending: ["9999_broken"] });
      } finally {
        await sql.close();
      }
    });

    test("inspection commands refuse a database without tgwh's tables", async () => {
      const db = await fresh(true);
      await expect(createPostgresStore({ url: db.url, applicationName: "t", migrate: false, mustExist: "migrated" })).rejects.toThrow(MissingDatabaseError);
      await expect(createPostgresStore({ url: db.url, applicationName: "t", migrate: true, mustExist: "migrated" })).rejects.toThrow(/no tgwh tables/);
      const [t] = await server.admin<{ t: string | null }>("SELECT to_regclass('jobs')::text AS t", [], db.name);
      expect(t!.t).toBeNull(); // refused before migrating: nothing was created
      const unreachable = await createPostgresStore({ url: server.url("no_such_db"), applicationName: "t", migrate: false, mustExist: "reachable" }).catch((e: Error) => e);
      expect(unreachable).toBeInstanceOf(MissingDatabaseError);
      expect((unreachable as Error).message).toContain("createdb");
    });
  });

  describe("the URL is a secret", () => {
    test("location, errors and backup never show the password", async () => {
      const db = await fresh();
      const store = await open(db.url);
      expect(store.location).toBe(`postgres://tgwh@127.0.0.1:${server.port}/${db.name}`);
      const err = await store.backup("/tmp/x").catch((e: Error) => e);
      expect(String(err)).toContain("pg_dump");
      const wrong = db.url.replace(encodeURIComponent(PG_PASSWORD), "not-the-password");
      const failed = await createPostgresStore({ url: wrong, applicationName: "t", migrate: false }).catch((e: Error) => e);
      expect(String((failed as Error).message)).toMatch(/password authentication failed/);
      expect(String((failed as Error).message)).not.toContain("not-the-password");
      expect(String((failed as Error).message)).not.toContain(PG_PASSWORD);
    });

    test("PG* environment variables cannot point the store at another database", async () => {
      const db = await fresh();
      const saved = { ...process.env };
      Object.assign(process.env, { PGDATABASE: "postgres", PGHOST: "192.0.2.1", PGPORT: "1", PGUSER: "nobody" });
      try {
        const store = await open(db.url);
        const [row] = await store.internals.pg.sql.unsafe("SELECT current_database() AS d, current_user AS u");
        expect(row).toEqual({ d: db.name, u: "tgwh" });
      } finally {
        for (const k of ["PGDATABASE", "PGHOST", "PGPORT", "PGUSER"]) if (saved[k] === undefined) delete process.env[k];
      }
    });
  });
});
