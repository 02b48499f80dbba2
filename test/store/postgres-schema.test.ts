import { describe, expect, test } from "bun:test";
import { getTableConfig as pgTableConfig } from "drizzle-orm/pg-core";
import { getTableConfig as sqliteTableConfig } from "drizzle-orm/sqlite-core";
import * as pg from "../../src/store/postgres/schema";
import * as lite from "../../src/store/sqlite/schema";

/**
 * The two engines' schemas describe one data model: callers use one set of row types
 * (store/rows.ts, inferred from SQLite's tables), so PostgreSQL's tables must infer exactly the
 * same types. The type assertions below fail `make typecheck` (tsc covers test/) when a column's
 * type, nullability or default drifts; the runtime test checks names, which types cannot.
 */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}
// prev_id is SQLite's list-mode link (store/sqlite/chains/): PostgreSQL keeps the chain index instead.
assertType<Equal<typeof pg.jobs.$inferSelect, Omit<typeof lite.jobs.$inferSelect, "prevId">>>();
assertType<Equal<typeof pg.jobs.$inferInsert, Omit<typeof lite.jobs.$inferInsert, "prevId">>>();
assertType<Equal<typeof pg.users.$inferSelect, typeof lite.users.$inferSelect>>();
// (users' insert types differ on purpose: SQLite's INTEGER PRIMARY KEY is optional on insert,
// a rowid alias; telegram_id is always given, and no caller uses insert types.)
assertType<Equal<typeof pg.serviceAccounts.$inferSelect, typeof lite.serviceAccounts.$inferSelect>>();
assertType<Equal<typeof pg.serviceAccounts.$inferInsert, typeof lite.serviceAccounts.$inferInsert>>();
assertType<Equal<typeof pg.auditLog.$inferSelect, typeof lite.auditLog.$inferSelect>>();
assertType<Equal<typeof pg.auditLog.$inferInsert, typeof lite.auditLog.$inferInsert>>();
assertType<Equal<typeof pg.settings.$inferSelect, typeof lite.settings.$inferSelect>>();
assertType<Equal<typeof pg.settings.$inferInsert, typeof lite.settings.$inferInsert>>();
assertType<Equal<typeof pg.initDataReplays.$inferSelect, typeof lite.initDataReplays.$inferSelect>>();
assertType<Equal<typeof pg.initDataReplays.$inferInsert, typeof lite.initDataReplays.$inferInsert>>();

// A drift the check must catch (kept here so the checker itself is known to work).
// @ts-expect-error a nullable column is not the same type as a required one
assertType<Equal<{ a: number | null }, { a: number }>>();

describe("schemas of both engines", () => {
  const pairs = [
    [pg.jobs, lite.jobs],
    [pg.users, lite.users],
    [pg.serviceAccounts, lite.serviceAccounts],
    [pg.auditLog, lite.auditLog],
    [pg.settings, lite.settings],
    [pg.initDataReplays, lite.initDataReplays],
  ] as const;

  // SQLite's list mode of per-chat order (store/sqlite/chains/): PostgreSQL keeps jobs_chain only.
  const sqliteOnly = new Set(["prev_id", "jobs_next"]);

  test("the same tables, column names, nullability and index names (but SQLite's chain lists)", () => {
    for (const [p, s] of pairs) {
      const a = pgTableConfig(p);
      const b = sqliteTableConfig(s);
      expect(a.name).toBe(b.name);
      const cols = (c: { name: string; notNull: boolean; primary: boolean }[]) =>
        c.filter((x) => !sqliteOnly.has(x.name)).map((x) => `${x.name}:${x.notNull}:${x.primary}`).sort();
      expect(cols(a.columns)).toEqual(cols(b.columns));
      const names = (t: typeof a | typeof b) => t.indexes.map((i) => String(i.config.name)).filter((n) => !sqliteOnly.has(n)).sort();
      expect(names(a)).toEqual(names(b));
    }
  });

  test("partial indexes carry the same predicates (what the queries must repeat literally)", () => {
    const preds = (t: typeof pg.jobs | typeof lite.jobs, cfg: typeof pgTableConfig | typeof sqliteTableConfig) =>
      Object.fromEntries(
        (cfg as (x: unknown) => { indexes: { config: { name: string; where?: { queryChunks: unknown[] } } }[] })(t).indexes.map((i) => [
          i.config.name,
          JSON.stringify(i.config.where?.queryChunks ?? null),
        ]),
      );
    const a = preds(pg.jobs, pgTableConfig);
    const b = preds(lite.jobs, sqliteTableConfig);
    for (const name of ["jobs_claim", "jobs_chain", "jobs_lease"]) expect(a[name]).toBe(b[name]!);
    // jobs_finished is written `state = 'done' OR state = 'discarded'` on SQLite for its planner.
    expect(a.jobs_finished).toContain("state IN ('done', 'discarded')");
  });
});
