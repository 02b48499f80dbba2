import type { UserSighting } from "./types";

/**
 * What a sign-in writes to the users table, for both engines' upserts (sqlite/users.ts,
 * postgres/users.ts); each adds its own "last_seen never goes back" expression. Pure.
 */
export function sightingInsert(u: UserSighting, now: number) {
  return {
    telegramId: u.telegramId,
    firstName: u.firstName,
    lastName: u.lastName,
    username: u.username,
    languageCode: u.languageCode ?? null,
    isPremium: u.isPremium ?? false,
    photoUrl: u.photoUrl ?? null,
    firstSeen: now,
    lastSeen: now,
  };
}

/** Names are what Telegram signed now; a field this source does not carry keeps its stored value. */
export function sightingUpdate(u: UserSighting) {
  return {
    firstName: u.firstName,
    lastName: u.lastName,
    username: u.username,
    ...(u.languageCode !== undefined ? { languageCode: u.languageCode } : {}),
    ...(u.isPremium !== undefined ? { isPremium: u.isPremium } : {}),
    ...(u.photoUrl !== undefined ? { photoUrl: u.photoUrl } : {}),
  };
}
