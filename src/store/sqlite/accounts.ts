// drizzle's query builder: account writes are rare, and the token lookup is one indexed read.
import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { AccountStore, ServiceAccount } from "../types";
import type { Writer } from "./commit/writer";
import type { Db } from "./connection";
import { lazy } from "./lazy";
import { serviceAccounts as t } from "./schema";

/** Every column but the token hash: what leaves the store. */
const PUBLIC = { id: t.id, name: t.name, role: t.role, createdAt: t.createdAt, revokedAt: t.revokedAt, lastUsedAt: t.lastUsedAt };

export function createSqliteAccountStore(db: Db, writer: Writer, clock: () => number): AccountStore {
  const { orm } = db;
  const byName = lazy(() => orm.select(PUBLIC).from(t).where(eq(t.name, sql.placeholder("name"))).prepare());
  const byHash = lazy(() => orm.select(PUBLIC).from(t).where(eq(t.tokenHash, sql.placeholder("hash"))).prepare());
  return {
    create: (a) =>
      writer.run(
        (): ServiceAccount | null =>
          orm.insert(t).values({ name: a.name, role: a.role, tokenHash: a.tokenHash, createdAt: clock() }).onConflictDoNothing({ target: t.name }).returning(PUBLIC).get() ?? null,
      ),
    revoke: (name) =>
      writer.run(
        (): ServiceAccount | null =>
          orm
            .update(t)
            .set({ revokedAt: sql`coalesce(${t.revokedAt}, ${clock()})` })
            .where(eq(t.name, name))
            .returning(PUBLIC)
            .get() ?? null,
      ),
    byName: async (name) => byName().get({ name }) ?? null,
    byTokenHash: async (hash) => byHash().get({ hash }) ?? null,
    list: async (limit, cursor) => orm.select(PUBLIC).from(t).where(gt(t.id, cursor)).orderBy(asc(t.id)).limit(limit).all(),
    touchLastUsed: (id, now, notBefore) =>
      writer.run(() => {
        orm
          .update(t)
          .set({ lastUsedAt: now })
          .where(and(eq(t.id, id), sql`coalesce(${t.lastUsedAt}, 0) <= ${notBefore}`))
          .run();
      }),
  };
}
