import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ReservedSQL } from "bun";
import { ADVANCE_CHAINS } from "../../src/store/postgres/chain";
import { CLAIM, EXPIRED_CANDIDATES } from "../../src/store/postgres/claim";
import { openPool, type Pg } from "../../src/store/postgres/connection";
import { END_MANY, RETRY_MANY } from "../../src/store/postgres/finish";
import { LOOKUP } from "../../src/store/postgres/insert";
import { NEXT_WAKE, RELEASE_OWN_PREVIOUS } from "../../src/store/postgres/jobs";
import { PRUNE } from "../../src/store/postgres/prune";
import { BY_STATE_KIND, OLDEST_RUNNABLE } from "../../src/store/postgres/stats";
import { HAVE_POSTGRES, sharedPostgres } from "../support/postgres";

/**
 * Every hot or periodic statement of the PostgreSQL engine is an index seek or a bounded walk,
 * under the generic plan a prepared statement ends up with (parameters unknown to the planner):
 * the partial indexes only serve a statement that repeats their states literally. The table holds
 * 100,000 jobs in every state, analyzed, so a sequential scan would be the planner's honest choice
 * if an index did not fit. (bench/pg-claim.ts times the claim at 1 k vs 1 M.)
 */
describe.skipIf(!HAVE_POSTGRES)("PostgreSQL plans", () => {
  let pg: Pg;
  let conn: ReservedSQL;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const server = await sharedPostgres();
    const db = await server.createDatabase();
    drop = db.drop;
    pg = openPool({ url: db.url, applicationName: "tgwh plans", max: 2 });
    const now = 10_000_000;
    // 70 k done, 20 k pending in chains of 10 (first ready), 5 k dead, 4,900 discarded, 100 running.
    await pg.sql.unsafe(
      `INSERT INTO jobs (kind, dedupe_key, order_key, seq, ready, payload, state, attempts, max_attempts, run_at, created_at, finished_at, lease_until, lease_owner)
       SELECT CASE WHEN i % 7 = 0 THEN 'notify.send' ELSE 'telegram.update' END, 'update:' || i, 'chat:' || (i % 2000), i,
         CASE WHEN i > 70000 AND i <= 90000 AND i <= 72000 THEN 1 WHEN i <= 70000 OR i > 90000 THEN 1 ELSE 0 END, '{}',
         CASE WHEN i <= 70000 THEN 'done' WHEN i <= 90000 THEN 'pending' WHEN i <= 95000 THEN 'dead' WHEN i <= 99900 THEN 'discarded' ELSE 'running' END,
         1, 8, $1 - i, $1 - i, CASE WHEN i <= 70000 OR (i > 90000 AND i <= 99900) THEN $1 - i END,
         CASE WHEN i > 99900 THEN $1 + 30000 END, CASE WHEN i > 99900 THEN 'gw/1-x' END
       FROM generate_series(1, 100000) AS i`,
      [now],
    );
    await pg.sql.unsafe("VACUUM ANALYZE jobs");
    conn = await pg.sql.reserve();
    await conn.unsafe("SET plan_cache_mode = force_generic_plan");
  }, 120_000);
  afterAll(async () => {
    await conn?.release();
    await pg?.close();
    await drop?.();
  }, 30_000);

  let n = 0;
  async function plan(text: string, types: string[], args: string[]): Promise<string> {
    const name = `p${++n}`;
    await conn.unsafe(`PREPARE ${name}${types.length ? `(${types.join(", ")})` : ""} AS ${text}`);
    try {
      const rows = await conn.unsafe<{ "QUERY PLAN": string }[]>(`EXPLAIN (COSTS OFF) EXECUTE ${name}${args.length ? `(${args.join(", ")})` : ""}`);
      return rows.map((r) => r["QUERY PLAN"]).join("\n");
    } finally {
      await conn.unsafe(`DEALLOCATE ${name}`);
    }
  }
  const expectIndexed = (p: string, ...indexes: string[]) => {
    expect(p).not.toMatch(/Seq Scan on jobs/);
    for (const ix of indexes) expect(p).toContain(ix);
  };

  test("claim: jobs_claim, in order, with SKIP LOCKED", async () => {
    const p = await plan(CLAIM, ["text", "int8", "int8", "int8", "int4"], ["'o'", "1", "1", "10000000", "32"]);
    expectIndexed(p, "Index Scan using jobs_claim", "LockRows");
  });

  test("lease expiry, chain lookups on insert and hand-over: jobs_lease, jobs_chain, jobs_dedupe_key", async () => {
    expectIndexed(await plan(EXPIRED_CANDIDATES, ["int8"], ["10000000"]), "jobs_lease");
    expectIndexed(await plan(LOOKUP, ["text[]", "text[]"], ["ARRAY['chat:1','chat:2']", "ARRAY['update:5','update:6']"]), "jobs_chain", "jobs_dedupe_key");
    expectIndexed(await plan(ADVANCE_CHAINS, ["text[]"], ["ARRAY['chat:1']"]), "jobs_chain");
  });

  test("the queue snapshot: a recursive walk of jobs_state_kind and the head of jobs_claim", async () => {
    expectIndexed(await plan(BY_STATE_KIND, ["text[]", "int4"], ["ARRAY['pending','running','discarded','dead','done']", "20000"]), "jobs_state_kind");
    expectIndexed(await plan(OLDEST_RUNNABLE, ["int8"], ["10000000"]), "jobs_claim");
  });

  test("a tick's finishes: by primary key or through the running jobs (jobs_lease), never the whole table", async () => {
    const ids = "ARRAY[99901,99902]::int8[]";
    expectIndexed(await plan(END_MANY, ["int8[]", "text[]", "text[]", "text[]", "text[]", "int8"], [ids, "ARRAY['done','done']", "ARRAY[NULL,NULL]::text[]", "ARRAY[NULL,NULL]::text[]", "ARRAY['gw/1-x','gw/1-x']", "1"]));
    expectIndexed(await plan(RETRY_MANY, ["int8[]", "int8[]", "text[]", "text[]", "int4[]", "text[]"], [ids, "ARRAY[1,1]::int8[]", "ARRAY['e','e']", "ARRAY['[]','[]']", "ARRAY[0,0]", "ARRAY['gw/1-x','gw/1-x']"]));
  });

  test("the worker's wake-up hint and a restart's release of its own leases", async () => {
    expectIndexed(await plan(NEXT_WAKE, [], []), "jobs_claim", "jobs_lease");
    expect(await plan(RELEASE_OWN_PREVIOUS, ["text", "text"], ["'gw/%'", "'gw/2-y'"])).not.toMatch(/Seq Scan on jobs/);
  });

  test("retention: jobs_finished", async () => {
    expectIndexed(await plan(PRUNE, ["int8", "int4"], ["9950000", "2000"]), "jobs_finished");
  });
});
