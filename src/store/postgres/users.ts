// drizzle's query builder: one upsert per sign-in and a lookup per /auth/me, far off the hot path.
import { eq, sql } from "drizzle-orm";
import type { UserStore } from "../types";
import { sightingInsert, sightingUpdate } from "../user-sighting";
import type { Pg } from "./connection";
import { users } from "./schema";

export function createPgUserStore({ orm }: Pg): UserStore {
  return {
    async upsert(u, now) {
      const [row] = await orm
        .insert(users)
        .values(sightingInsert(u, now))
        // greatest(), not max(): max() is an aggregate in PostgreSQL. last_seen never goes back.
        .onConflictDoUpdate({ target: users.telegramId, set: { ...sightingUpdate(u), lastSeen: sql`greatest(${users.lastSeen}, ${now}::int8)` } })
        .returning();
      return row!;
    },
    async byId(id) {
      const [row] = await orm.select().from(users).where(eq(users.telegramId, id));
      return row ?? null;
    },
  };
}
