/** Why a Telegram sign-in payload was refused; routes map these to 400/401. */
export type AuthErrorCode = "missing_hash" | "bad_hash" | "bad_signature" | "expired" | "malformed";

export interface AuthFailure {
  ok: false;
  code: AuthErrorCode;
  /** For the caller and the operator; never contains the token or a secret. */
  message: string;
}

export type AuthResult<T> = { ok: true; value: T } | AuthFailure;

export const failure = (code: AuthErrorCode, message: string): AuthFailure => ({ ok: false, code, message });

/** The HTTP status a failure maps to: 400 for a payload that is not what Telegram sends, 401 for a bad or stale signature. */
export const statusOf = (code: AuthErrorCode): 400 | 401 => (code === "malformed" || code === "missing_hash" ? 400 : 401);

/** Clock skew tolerated for an auth_date ahead of our clock. */
export const FUTURE_SKEW_SECONDS = 60;

/**
 * Freshness of a signed auth_date (unix seconds): older than maxAgeSeconds (unless 0) or more
 * than 60 s ahead of `now` (unix ms) is `expired`. Returns null when fresh.
 */
export function checkAuthDate(authDate: number, maxAgeSeconds: number, now: number, what: string): AuthFailure | null {
  const nowSeconds = Math.floor(now / 1000);
  if (authDate > nowSeconds + FUTURE_SKEW_SECONDS) {
    return failure("expired", `${what} auth_date is ${authDate - nowSeconds} s in the future; check this server's clock`);
  }
  if (maxAgeSeconds > 0 && nowSeconds - authDate > maxAgeSeconds) {
    return failure("expired", `${what} is ${nowSeconds - authDate} s old, over the ${maxAgeSeconds} s limit; reopen the app to get a fresh one`);
  }
  return null;
}

/**
 * A Telegram user id as text (a session's `sub`, a widget's `id`): digits only, no sign, space, exponent or leading zero,
 * and a safe integer (a larger one would silently become another id). Null otherwise. Pure.
 */
export function telegramIdOf(sub: unknown): number | null {
  if (typeof sub !== "string" || !/^[1-9][0-9]{0,15}$/.test(sub)) return null;
  const id = Number(sub);
  return Number.isSafeInteger(id) ? id : null;
}
