import type { Database } from "bun:sqlite";

/** Small durable settings (cached getMe, generated secrets). Rare writes: plain autocommit. */
export function createSettings(sqlite: Database, clock: () => number = Date.now) {
  const get = sqlite.prepare<{ value: string }, [string]>("SELECT value FROM settings WHERE key = ?");
  const put = sqlite.prepare<unknown, [string, string, number]>(
    "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
  );
  const putIfAbsent = sqlite.prepare<unknown, [string, string, number]>(
    "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
  );
  const del = sqlite.prepare<unknown, [string]>("DELETE FROM settings WHERE key = ?");
  return {
    get: (key: string): string | null => get.get(key)?.value ?? null,
    set: (key: string, value: string): void => void put.run(key, value, clock()),
    /** Removes the key; true when there was one. */
    delete: (key: string): boolean => del.run(key).changes > 0,
    /** Stores value unless the key exists, then returns what is stored: two processes agree. */
    getOrCreate(key: string, make: () => string): string {
      putIfAbsent.run(key, make(), clock());
      return get.get(key)!.value;
    },
  };
}

export type Settings = ReturnType<typeof createSettings>;
