// drizzle's query builder: account writes are rare, and the token lookup is one indexed read.
import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { AccountStore } from "../types";
import type { Pg } from "./connection";
import { serviceAccounts as t } from "./schema";

/** Every column but the token hash: what leaves the store. */
const PUBLIC = { id: t.id, name: t.name, role: t.role, createdAt: t.createdAt, revokedAt: t.revokedAt, lastUsedAt: t.lastUsedAt };

export function createPgAccountStore({ orm }: Pg, clock: () => number): AccountStore {
  return {
    async create(a) {
      const [row] = await orm
        .insert(t)
        .values({ name: a.name, role: a.role, tokenHash: a.tokenHash, createdAt: clock() })
        .onConflictDoNothing({ target: t.name })
        .returning(PUBLIC);
      return row ?? null;
    },
    async revoke(name) {
      const [row] = await orm
        .update(t)
        .set({ revokedAt: sql`coalesce(${t.revokedAt}, ${clock()}::int8)` })
        .where(eq(t.name, name))
        .returning(PUBLIC);
      return row ?? null;
    },
    async byName(name) {
      const [row] = await orm.select(PUBLIC).from(t).where(eq(t.name, name));
      return row ?? null;
    },
    async byTokenHash(hash) {
      const [row] = await orm.select(PUBLIC).from(t).where(eq(t.tokenHash, hash));
      return row ?? null;
    },
    list: (limit, cursor) => orm.select(PUBLIC).from(t).where(gt(t.id, cursor)).orderBy(asc(t.id)).limit(limit),
    async touchLastUsed(id, now, notBefore) {
      await orm
        .update(t)
        .set({ lastUsedAt: now })
        .where(and(eq(t.id, id), sql`coalesce(${t.lastUsedAt}, 0) <= ${notBefore}::int8`));
    },
  };
}
