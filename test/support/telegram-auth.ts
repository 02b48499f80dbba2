import { createHash, createHmac } from "node:crypto";

/**
 * Signs Telegram sign-in payloads the way Telegram does, with node:crypto directly (not with the
 * code under test), so the tests check tgwh against the specification rather than against itself.
 */

/** Percent-encodes like URLSearchParams but spaces as %20 (Telegram clients do both). */
const encodePercent20 = (s: string) => encodeURIComponent(s);
const encodePlus = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");

export interface SignOptions {
  /** How spaces are encoded in the query string: "+" or "%20" (both are valid). */
  spaces?: "+" | "%20";
  /** Field order in the output (the signature never depends on it). Default: as given. */
  order?: string[];
}

/** First-party initData: hash = HMAC_SHA256(HMAC_SHA256("WebAppData", token), data-check-string). */
export function signInitData(fields: Record<string, string>, botToken: string, opts: SignOptions = {}): string {
  const check = Object.keys(fields)
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join("\n");
  const secret = createHmac("sha256", "WebAppData").update(botToken).digest();
  const hash = createHmac("sha256", secret).update(check).digest("hex");
  const enc = opts.spaces === "+" ? encodePlus : encodePercent20;
  const all: Record<string, string> = { ...fields, hash };
  const keys = opts.order ?? Object.keys(all);
  return keys.map((k) => `${enc(k)}=${enc(all[k]!)}`).join("&");
}

/** Login Widget fields with hash = HMAC_SHA256(SHA256(token), data-check-string). */
export function signWidgetFields(fields: Record<string, string | number>, botToken: string): Record<string, string | number> {
  const check = Object.keys(fields)
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join("\n");
  const secret = createHash("sha256").update(botToken).digest();
  return { ...fields, hash: createHmac("sha256", secret).update(check).digest("hex") };
}

/** Flips one hex digit of the hash: same length, wrong value. */
export function tamperHash(initData: string): string {
  return initData.replace(/hash=([0-9a-f])/, (_m, c: string) => `hash=${c === "0" ? "1" : "0"}`);
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A Mini App user JSON the way Telegram serialises it (escaped slashes in URLs). */
export function webAppUserJson(u: { id: number; first_name: string; last_name?: string; username?: string; language_code?: string; is_premium?: boolean; photo_url?: string }): string {
  return JSON.stringify(u).replace(/\//g, "\\/");
}
