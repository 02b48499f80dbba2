import { createHash, createHmac } from "node:crypto";
import { checkAuthDate, failure, telegramIdOf, type AuthResult } from "./auth-result";
import { dataCheckString, hexDigestEquals, type FreshnessOptions } from "./init-data";

/**
 * Telegram Login Widget validation. Pure.
 * https://core.telegram.org/widgets/login#checking-authorization
 */

/** The user the widget hands the page (its callback's argument, or the redirect's query). */
export interface WidgetUser {
  id: number;
  first_name: string;
  last_name?: string;
  username?: string;
  photo_url?: string;
}

export interface WidgetLogin {
  user: WidgetUser;
  authDate: number;
}

/** HMAC_SHA256(key = SHA256(bot_token), msg = data) as hex. */
export function signWidget(data: string, botToken: string): string {
  const secret = createHash("sha256").update(botToken).digest();
  return createHmac("sha256", secret).update(data).digest("hex");
}

/**
 * Validates the widget's fields. Every received field except `hash` is signed, including ones
 * Telegram may add later, so the caller passes all of them as received (numbers are fine).
 */
export function validateWidgetLogin(received: Record<string, unknown>, botToken: string, opts: FreshnessOptions): AuthResult<WidgetLogin> {
  if (typeof received !== "object" || received === null || Array.isArray(received)) {
    return failure("malformed", "widget data must be a JSON object of the fields Telegram gave the page");
  }
  const fields: Record<string, string> = Object.create(null); // no prototype: a "__proto__" field is just a field
  for (const [k, v] of Object.entries(received)) {
    if (typeof v === "string") fields[k] = v;
    else if (typeof v === "number" && Number.isFinite(v)) fields[k] = String(v);
    else if (typeof v === "boolean") fields[k] = String(v);
    else return failure("malformed", `widget field '${k}' must be a string or a number`);
  }
  const hash = fields.hash;
  if (!hash) return failure("missing_hash", "widget data has no hash field; send every field the widget gave, unchanged");
  const id = telegramIdOf(fields.id);
  if (id === null) return failure("malformed", "widget field 'id' must be the user's numeric Telegram id (digits, at most 2^53 - 1)");
  if (!fields.first_name) return failure("malformed", "widget field 'first_name' is missing");
  if (!fields.auth_date || !/^\d{1,12}$/.test(fields.auth_date)) return failure("malformed", "widget field 'auth_date' must be a unix time in seconds");
  const expected = signWidget(dataCheckString(fields, ["hash"]), botToken);
  if (!hexDigestEquals(expected, hash)) {
    return failure("bad_hash", "widget hash does not match: the data was signed for another bot or altered on the way");
  }
  const authDate = Number(fields.auth_date);
  const fresh = checkAuthDate(authDate, opts.maxAgeSeconds, opts.now, "widget login");
  if (fresh) return fresh;
  const user: WidgetUser = { id, first_name: fields.first_name };
  if (fields.last_name) user.last_name = fields.last_name;
  if (fields.username) user.username = fields.username;
  if (fields.photo_url) user.photo_url = fields.photo_url;
  return { ok: true, value: { user, authDate } };
}
