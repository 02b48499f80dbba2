// drizzle's query builder: one upsert per sign-in and a lookup per /auth/me, far off the hot path.
import { eq, sql } from "drizzle-orm";
import type { UserStore } from "../types";
import type { Pg } from "./connection";
import { users } from "./schema";

export function createPgUserStore({ orm }: Pg): UserStore {
  return {
    async upsert(u, now) {
      const [row] = await orm
        .insert(users)
        .values({
          telegramId: u.telegramId,
          firstName: u.firstName,
          lastName: u.lastName,
          username: u.username,
          languageCode: u.languageCode ?? null,
          isPremium: u.isPremium ?? false,
          photoUrl: u.photoUrl ?? null,
          firstSeen: now,
          lastSeen: now,
        })
        .onConflictDoUpdate({
          target: users.telegramId,
          // Names are what Telegram signed now; a field this source does not carry keeps its value.
          set: {
            firstName: u.firstName,
            lastName: u.lastName,
            username: u.username,
            ...(u.languageCode !== undefined ? { languageCode: u.languageCode } : {}),
            ...(u.isPremium !== undefined ? { isPremium: u.isPremium } : {}),
            ...(u.photoUrl !== undefined ? { photoUrl: u.photoUrl } : {}),
            // greatest(), not max(): max() is an aggregate in PostgreSQL. last_seen never goes back.
            lastSeen: sql`greatest(${users.lastSeen}, ${now}::int8)`,
          },
        })
        .returning();
      return row!;
    },
    async byId(id) {
      const [row] = await orm.select().from(users).where(eq(users.telegramId, id));
      return row ?? null;
    },
  };
}
