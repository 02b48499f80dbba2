import { createHmac, createPublicKey, timingSafeEqual, verify, type KeyObject } from "node:crypto";
import { checkAuthDate, failure, FUTURE_SKEW_SECONDS, type AuthFailure, type AuthResult } from "./auth-result";

/**
 * Telegram Mini App `initData` validation. Pure functions: the caller passes the clock and the
 * limits, nothing is read from the environment.
 * https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app
 */

/** The `user` / `receiver` objects of initData (Telegram's WebAppUser). */
export interface WebAppUser {
  id: number;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
  is_premium?: boolean;
  is_bot?: boolean;
  photo_url?: string;
  allows_write_to_pm?: boolean;
  added_to_attachment_menu?: boolean;
}

/** The `chat` object of initData (Telegram's WebAppChat). */
export interface WebAppChat {
  id: number;
  type: string;
  title: string;
  username?: string;
  photo_url?: string;
}

/** What a valid initData says, with its JSON fields parsed. */
export interface InitData {
  authDate: number;
  queryId?: string;
  user?: WebAppUser;
  receiver?: WebAppUser;
  chat?: WebAppChat;
  chatType?: string;
  chatInstance?: string;
  startParam?: string;
  canSendAfter?: number;
  /** Every field as received (decoded), hash and signature included. */
  fields: Record<string, string>;
}

export interface FreshnessOptions {
  /** Seconds auth_date stays valid; 0 disables the age check (the future check stays). */
  maxAgeSeconds: number;
  /** Current time in unix milliseconds. */
  now: number;
}

/**
 * Until when (unix ms) a used initData must stay recorded to refuse its replay: while it would
 * still pass the freshness check (auth_date + max age, plus the clock skew tolerated). With the
 * age check off (max age 0) it never expires; it is then remembered for a week.
 */
export function replayWindowEnd(authDate: number, maxAgeSeconds: number, now: number): number {
  if (maxAgeSeconds === 0) return now + 7 * 86400_000;
  return (authDate + maxAgeSeconds + FUTURE_SKEW_SECONDS) * 1000;
}

/** initData is a query string of a few hundred bytes; anything far larger is not from Telegram. */
export const INIT_DATA_MAX_LENGTH = 16 * 1024;

/** Telegram's Ed25519 public keys for third-party validation (hex, from core.telegram.org). */
export const TELEGRAM_PUBLIC_KEYS = {
  production: "e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d",
  test: "40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec",
} as const;
export type TelegramEnvironment = keyof typeof TELEGRAM_PUBLIC_KEYS;

/**
 * Splits initData into decoded fields (`+` and `%20` both become a space). A repeated key is
 * malformed: which copy the signature covers would be a guess.
 */
export function parseInitDataFields(raw: string): AuthResult<Record<string, string>> {
  if (typeof raw !== "string" || raw.trim() === "") return failure("malformed", "initData is empty; pass Telegram.WebApp.initData as it is (not initDataUnsafe)");
  if (raw.length > INIT_DATA_MAX_LENGTH) return failure("malformed", `initData is longer than ${INIT_DATA_MAX_LENGTH} characters`);
  const fields: Record<string, string> = Object.create(null); // no prototype: a "__proto__" field is just a field
  for (const [key, value] of new URLSearchParams(raw.trim())) {
    if (key === "") return failure("malformed", "initData has a field without a name");
    if (Object.hasOwn(fields, key)) return failure("malformed", `initData repeats the field '${key}'`);
    fields[key] = value;
  }
  return { ok: true, value: fields };
}

/** Sorted `key=value` lines without the excluded keys: the data-check-string Telegram signs. */
export function dataCheckString(fields: Record<string, string>, exclude: readonly string[]): string {
  return Object.keys(fields)
    .filter((k) => !exclude.includes(k))
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join("\n");
}

/** HMAC_SHA256(key = HMAC_SHA256(key = "WebAppData", msg = bot_token), msg = data) as hex. */
export function signFirstParty(data: string, botToken: string): string {
  const secret = createHmac("sha256", "WebAppData").update(botToken).digest();
  return createHmac("sha256", secret).update(data).digest("hex");
}

/** Constant-time comparison of two hex digests (a wrong length is simply unequal). */
export function hexDigestEquals(expectedHex: string, receivedHex: string): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(receivedHex)) return false;
  return timingSafeEqual(Buffer.from(expectedHex, "hex"), Buffer.from(receivedHex.toLowerCase(), "hex"));
}

/** First-party validation with the bot token: the `hash` field. */
export function validateInitData(raw: string, botToken: string, opts: FreshnessOptions): AuthResult<InitData> {
  const parsed = parseInitDataFields(raw);
  if (!parsed.ok) return parsed;
  const fields = parsed.value;
  const hash = fields.hash;
  if (!hash) return failure("missing_hash", "initData has no hash field; send Telegram.WebApp.initData unchanged");
  const authDate = readAuthDate(fields);
  if (!authDate.ok) return authDate;
  // `signature` (Bot API 8.0+) stays inside the string: only `hash` is excluded.
  const expected = signFirstParty(dataCheckString(fields, ["hash"]), botToken);
  if (!hexDigestEquals(expected, hash)) {
    return failure("bad_hash", "initData hash does not match: it was signed for another bot token or altered on the way");
  }
  return finish(fields, authDate.value, opts);
}

const publicKeyCache = new Map<string, KeyObject>();
function ed25519Key(hex: string): KeyObject {
  let key = publicKeyCache.get(hex);
  if (!key) {
    key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(hex, "hex").toString("base64url") }, format: "jwk" });
    publicKeyCache.set(hex, key);
  }
  return key;
}

/**
 * Third-party validation without the bot token: Telegram's Ed25519 `signature` over
 * "<bot_id>:WebAppData\n" + the sorted fields without hash and signature.
 */
export function validateInitDataThirdParty(
  raw: string,
  botId: number,
  opts: FreshnessOptions & { environment?: TelegramEnvironment },
): AuthResult<InitData> {
  const parsed = parseInitDataFields(raw);
  if (!parsed.ok) return parsed;
  const fields = parsed.value;
  const signature = fields.signature;
  if (!signature) return failure("bad_signature", "initData has no signature field (Telegram adds it since Bot API 8.0); validate with the bot token instead");
  const authDate = readAuthDate(fields);
  if (!authDate.ok) return authDate;
  const sig = /^[A-Za-z0-9_-]+={0,2}$/.test(signature) ? Buffer.from(signature, "base64url") : Buffer.alloc(0);
  const message = `${botId}:WebAppData\n${dataCheckString(fields, ["hash", "signature"])}`;
  const key = ed25519Key(TELEGRAM_PUBLIC_KEYS[opts.environment ?? "production"]);
  if (sig.length !== 64 || !verify(null, Buffer.from(message), key, sig)) {
    return failure("bad_signature", `initData signature is not Telegram's for bot ${botId}: wrong bot id, test vs production environment, or altered data`);
  }
  return finish(fields, authDate.value, opts);
}

function readAuthDate(fields: Record<string, string>): AuthResult<number> {
  const raw = fields.auth_date;
  if (raw === undefined) return failure("malformed", "initData has no auth_date field");
  if (!/^\d{1,12}$/.test(raw)) return failure("malformed", "initData auth_date is not a unix time in seconds");
  return { ok: true, value: Number(raw) };
}

/** After the signature holds: freshness, then the JSON fields. */
function finish(fields: Record<string, string>, authDate: number, opts: FreshnessOptions): AuthResult<InitData> {
  const fresh = checkAuthDate(authDate, opts.maxAgeSeconds, opts.now, "initData");
  if (fresh) return fresh;
  const out: InitData = { authDate, fields };
  try {
    if (fields.user !== undefined) out.user = parseUser(fields.user, "user");
    if (fields.receiver !== undefined) out.receiver = parseUser(fields.receiver, "receiver");
    if (fields.chat !== undefined) out.chat = parseChat(fields.chat);
  } catch (err) {
    return failure("malformed", (err as Error).message);
  }
  if (fields.query_id !== undefined) out.queryId = fields.query_id;
  if (fields.chat_type !== undefined) out.chatType = fields.chat_type;
  if (fields.chat_instance !== undefined) out.chatInstance = fields.chat_instance;
  if (fields.start_param !== undefined) out.startParam = fields.start_param;
  if (fields.can_send_after !== undefined && /^\d+$/.test(fields.can_send_after)) out.canSendAfter = Number(fields.can_send_after);
  return { ok: true, value: out };
}

function parseJsonObject(text: string, name: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`initData ${name} is not valid JSON`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`initData ${name} is not a JSON object`);
  return v as Record<string, unknown>;
}

function parseUser(text: string, name: string): WebAppUser {
  const o = parseJsonObject(text, name);
  if (!Number.isSafeInteger(o.id)) throw new Error(`initData ${name}.id is not an integer`);
  if (typeof o.first_name !== "string") throw new Error(`initData ${name}.first_name is missing`);
  return o as unknown as WebAppUser;
}

function parseChat(text: string): WebAppChat {
  const o = parseJsonObject(text, "chat");
  if (!Number.isSafeInteger(o.id)) throw new Error("initData chat.id is not an integer");
  if (typeof o.type !== "string") throw new Error("initData chat.type is missing");
  return o as unknown as WebAppChat;
}

export type { AuthFailure, AuthResult };
