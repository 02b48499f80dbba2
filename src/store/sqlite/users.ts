// drizzle's query builder: one upsert per sign-in and a lookup per /auth/me, far off the hot path.
import { eq, sql } from "drizzle-orm";
import type { UserStore } from "../types";
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
              lastSeen: sql`max(${users.lastSeen}, ${now})`,
            },
          })
          .returning()
          .get(),
      ),
    byId: async (id) => byId().get({ id }) ?? null,
  };
}
