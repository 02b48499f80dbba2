// drizzle's query builder: a handful of reads and writes per process lifetime.
import { eq } from "drizzle-orm";
import type { SettingStore } from "../types";
import type { Pg } from "./connection";
import { settings } from "./schema";

/**
 * Small durable settings, shared by every gateway: the generated session signing key lives here,
 * so a session issued by one gateway is accepted by all of them.
 */
export function createPgSettingStore({ orm }: Pg, clock: () => number): SettingStore {
  const get = async (key: string) => (await orm.select({ value: settings.value }).from(settings).where(eq(settings.key, key)))[0]?.value ?? null;
  return {
    get,
    async set(key, value) {
      const updatedAt = clock();
      await orm.insert(settings).values({ key, value, updatedAt }).onConflictDoUpdate({ target: settings.key, set: { value, updatedAt } });
    },
    /** INSERT … ON CONFLICT DO NOTHING, then read: of gateways starting together, the first insert wins for all. */
    async getOrCreate(key, make) {
      const existing = await get(key);
      if (existing !== null) return existing;
      await orm.insert(settings).values({ key, value: make(), updatedAt: clock() }).onConflictDoNothing();
      return (await get(key))!;
    },
    async delete(key) {
      const rows = await orm.delete(settings).where(eq(settings.key, key)).returning({ key: settings.key });
      return rows.length > 0;
    },
  };
}
