// drizzle's query builder: one upsert per sign-in and a lookup per /auth/me, far off the hot path.
import { eq, sql } from "drizzle-orm";
import type { UserStore } from "../types";
import { sightingInsert, sightingUpdate } from "../user-sighting";
import type { Writer } from "./commit/writer";
import type { Db } from "./connection";
import { lazy } from "./lazy";
import { users } from "./schema";

export function createSqliteUserStore(db: Db, writer: Writer): UserStore {
  const { orm } = db;
  const byId = lazy(() => orm.select().from(users).where(eq(users.telegramId, sql.placeholder("id"))).prepare());
  return {
    upsert: (u, now) =>
      writer.run(() =>
        orm
          .insert(users)
          .values(sightingInsert(u, now))
          // last_seen never goes back.
          .onConflictDoUpdate({ target: users.telegramId, set: { ...sightingUpdate(u), lastSeen: sql`max(${users.lastSeen}, ${now})` } })
          .returning()
          .get(),
      ),
    byId: async (id) => byId().get({ id }) ?? null,
  };
}
