// drizzle's query builder: a handful of reads and writes per process lifetime.
import { eq, sql } from "drizzle-orm";
import type { SettingStore } from "../types";
import type { Writer } from "./commit/writer";
import type { Db } from "./connection";
import { lazy } from "./lazy";
import { settings } from "./schema";

/** Small durable settings. Writes go through the group commit like every other write. */
export function createSqliteSettingStore(db: Db, writer: Writer, clock: () => number): SettingStore {
  const { orm } = db;
  const read = lazy(() => orm.select({ value: settings.value }).from(settings).where(eq(settings.key, sql.placeholder("key"))).prepare());
  const get = (key: string) => read().get({ key })?.value ?? null;
  return {
    get: async (key) => get(key),
    set: (key, value) =>
      writer.run(() => {
        const updatedAt = clock();
        orm.insert(settings).values({ key, value, updatedAt }).onConflictDoUpdate({ target: settings.key, set: { value, updatedAt } }).run();
      }),
    getOrCreate: (key, make) =>
      writer.run(() => {
        const existing = get(key);
        if (existing !== null) return existing;
        orm.insert(settings).values({ key, value: make(), updatedAt: clock() }).onConflictDoNothing().run();
        return get(key)!;
      }),
    delete: (key) => writer.run(() => orm.delete(settings).where(eq(settings.key, key)).returning({ key: settings.key }).all().length > 0),
  };
}
