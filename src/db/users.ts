import type { Database } from "bun:sqlite";
import type { Writer } from "./writer";

/** A Telegram user as tgwh knows it (times are unix milliseconds). */
export interface UserRow {
  telegramId: number;
  firstName: string;
  lastName: string | null;
  username: string | null;
  languageCode: string | null;
  isPremium: boolean;
  photoUrl: string | null;
  firstSeen: number;
  lastSeen: number;
}

/**
 * What one sign-in tells us. Names and username are what Telegram signed now (absent = none);
 * `undefined` for language, premium and photo means "this source does not say" (the Login
 * Widget never sends language or premium, initData has a photo only from the attachment menu),
 * so the stored value is kept.
 */
export interface UserSighting {
  telegramId: number;
  firstName: string;
  lastName: string | null;
  username: string | null;
  languageCode?: string;
  isPremium?: boolean;
  photoUrl?: string;
}

const COLUMNS = `telegram_id AS telegramId, first_name AS firstName, last_name AS lastName, username,
  language_code AS languageCode, is_premium AS isPremium, photo_url AS photoUrl, first_seen AS firstSeen, last_seen AS lastSeen`;

type RawRow = Omit<UserRow, "isPremium"> & { isPremium: number };
const toRow = (r: RawRow): UserRow => ({ ...r, isPremium: r.isPremium === 1 });

export interface UserStore {
  /** Inserts or refreshes the user in the next group commit; resolves with the stored row once durable. */
  upsert(u: UserSighting, now: number): Promise<UserRow>;
  byId(telegramId: number): UserRow | null;
}

export function createUserStore(sqlite: Database, writer: Writer): UserStore {
  const upsert = sqlite.prepare<RawRow, [number, string, string | null, string | null, string | null, number | null, string | null, number, number]>(
    `INSERT INTO users (telegram_id, first_name, last_name, username, language_code, is_premium, photo_url, first_seen, last_seen)
     VALUES (?1, ?2, ?3, ?4, ?5, coalesce(?6, 0), ?7, ?8, ?9)
     ON CONFLICT (telegram_id) DO UPDATE SET
       first_name = excluded.first_name,
       last_name = excluded.last_name,
       username = excluded.username,
       language_code = coalesce(?5, users.language_code),
       is_premium = coalesce(?6, users.is_premium),
       photo_url = coalesce(?7, users.photo_url),
       last_seen = max(users.last_seen, excluded.last_seen)
     RETURNING ${COLUMNS}`,
  );
  const byId = sqlite.prepare<RawRow, [number]>(`SELECT ${COLUMNS} FROM users WHERE telegram_id = ?`);
  return {
    upsert: (u, now) =>
      writer.run(() =>
        toRow(
          upsert.get(
            u.telegramId,
            u.firstName,
            u.lastName,
            u.username,
            u.languageCode ?? null,
            u.isPremium === undefined ? null : u.isPremium ? 1 : 0,
            u.photoUrl ?? null,
            now,
            now,
          )!,
        ),
      ),
    byId: (id) => {
      const r = byId.get(id);
      return r ? toRow(r) : null;
    },
  };
}
