import { createHash, timingSafeEqual } from "node:crypto";

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * Constant-time check of the X-Telegram-Bot-Api-Secret-Token header against every accepted
 * secret (two during a rotation window). Hashing first makes the lengths equal, so neither the
 * content nor the length of a secret leaks through timing.
 */
export function secretMatches(given: string | null, accepted: readonly string[]): boolean {
  if (given === null || accepted.length === 0) return false;
  const g = digest(given);
  let ok = false;
  for (const s of accepted) ok = timingSafeEqual(g, digest(s)) || ok;
  return ok;
}
