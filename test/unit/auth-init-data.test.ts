import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createHmac } from "node:crypto";
import { checkAuthDate, statusOf } from "../../src/auth/auth-result";
import { dataCheckString, parseInitDataFields, signFirstParty, validateInitData, validateInitDataThirdParty, TELEGRAM_PUBLIC_KEYS } from "../../src/auth/init-data";
import { nowSeconds, signInitData, tamperHash, webAppUserJson } from "../support/telegram-auth";

interface Vectors {
  hmac_first_party: { id: string; bot_token: string; init_data: string; expect_valid: boolean }[];
  ed25519_third_party: { id: string; bot_id: number; key: "production" | "test"; init_data: string; expect_valid: boolean }[];
  primitives: Record<string, string>;
  telegram_ed25519_public_keys_hex: Record<string, string>;
}
// A copy of ../shared/vectors/init-data.json (public vectors, sources named per vector).
const VECTORS_PATH = new URL("../fixtures/init-data-vectors.json", import.meta.url).pathname;
const vectors = JSON.parse(readFileSync(VECTORS_PATH, "utf8")) as Vectors;

const TOKEN = "123456789:TEST_fake_token_for_tests_only_0000000";
const NOW = Date.now();
const noAge = { maxAgeSeconds: 0, now: NOW };

describe("public vectors", () => {
  for (const v of vectors.hmac_first_party) {
    test(`first-party ${v.id} → ${v.expect_valid ? "valid" : "bad_hash"}`, () => {
      const r = validateInitData(v.init_data, v.bot_token, noAge);
      expect(r.ok).toBe(v.expect_valid);
      if (!r.ok) expect(r.code).toBe("bad_hash");
    });
  }
  test("first-party vector: parsed fields, and expired with a max age", () => {
    const v = vectors.hmac_first_party.find((x) => x.expect_valid)!;
    const r = validateInitData(v.init_data, v.bot_token, noAge);
    if (!r.ok) throw new Error(r.message);
    expect(r.value.user).toMatchObject({ id: 222, first_name: "user-first-name", username: "user-username", is_bot: true });
    expect(r.value.receiver).toMatchObject({ id: 991, is_premium: true });
    expect(r.value.chat).toMatchObject({ id: 1, type: "group", title: "chat-title" });
    expect(r.value).toMatchObject({ authDate: 1, startParam: "debug", queryId: "QUERY", chatType: "sender", chatInstance: "888", canSendAfter: 10000 });
    const old = validateInitData(v.init_data, v.bot_token, { maxAgeSeconds: 86400, now: NOW });
    expect(old.ok ? null : old.code).toBe("expired");
    const wrongToken = validateInitData(v.init_data, v.bot_token + "A", noAge);
    expect(wrongToken.ok ? null : wrongToken.code).toBe("bad_hash");
  });
  for (const v of vectors.ed25519_third_party) {
    test(`third-party ${v.id} (bot ${v.bot_id}) → ${v.expect_valid ? "valid" : "bad_signature"}`, () => {
      const r = validateInitDataThirdParty(v.init_data, v.bot_id, { ...noAge, environment: v.key });
      expect(r.ok).toBe(v.expect_valid);
      if (!r.ok) expect(r.code).toBe("bad_signature");
    });
  }
  test("third-party vector: decoded user with '+', '%20', '?' and escaped slashes; test key, expiry", () => {
    const v = vectors.ed25519_third_party.find((x) => x.expect_valid)!;
    const r = validateInitDataThirdParty(v.init_data, v.bot_id, noAge);
    if (!r.ok) throw new Error(r.message);
    expect(r.value.user).toMatchObject({ id: 279058397, first_name: "Vladislav + - ? /", last_name: "Kibenko", is_premium: true });
    expect(r.value.user!.photo_url).toStartWith("https://t.me/i/userpic/320/");
    const testKey = validateInitDataThirdParty(v.init_data, v.bot_id, { ...noAge, environment: "test" });
    expect(testKey.ok ? null : testKey.code).toBe("bad_signature");
    const old = validateInitDataThirdParty(v.init_data, v.bot_id, { maxAgeSeconds: 1, now: NOW });
    expect(old.ok ? null : old.code).toBe("expired");
    const reordered = v.init_data.split("&").reverse().join("&");
    expect(validateInitDataThirdParty(reordered, v.bot_id, noAge).ok).toBe(true);
    // The same string carries an HMAC hash for a token we do not have: first-party must refuse it.
    expect(validateInitData(v.init_data, TOKEN, noAge).ok).toBe(false);
  });
  test("primitives and public keys match the vectors file", () => {
    const [signKey, secretKey] = Object.keys(vectors.primitives).filter((k) => !k.startsWith("_"));
    expect(signFirstParty("abc", "my-secret-token")).toBe(vectors.primitives[signKey!]!);
    expect(createHmac("sha256", "WebAppData").update("5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8").digest("hex")).toBe(vectors.primitives[secretKey!]!);
    expect(TELEGRAM_PUBLIC_KEYS.production as string).toBe(vectors.telegram_ed25519_public_keys_hex.production!);
    expect(TELEGRAM_PUBLIC_KEYS.test as string).toBe(vectors.telegram_ed25519_public_keys_hex.test!);
  });
});

describe("initData signed here with node:crypto", () => {
  const fresh = () => ({ maxAgeSeconds: 3600, now: Date.now() });
  const user = { id: 42424242, first_name: "Ada Marie", last_name: "Lovelace 🚀", username: "ada_l", language_code: "en", is_premium: true, photo_url: "https://t.me/i/userpic/320/ada.svg" };
  const base = () => ({ query_id: "AAE qu3ry", user: webAppUserJson(user), auth_date: String(nowSeconds()), start_param: "ref 7/x" });

  for (const spaces of ["+", "%20"] as const) {
    test(`spaces as '${spaces}', emoji, escaped slashes → valid, fields decoded`, () => {
      const raw = signInitData(base(), TOKEN, { spaces });
      expect(raw.includes(spaces === "+" ? "+" : "%20")).toBe(true);
      const r = validateInitData(raw, TOKEN, fresh());
      if (!r.ok) throw new Error(r.message);
      expect(r.value.user).toEqual(user);
      expect(r.value.startParam).toBe("ref 7/x");
      expect(r.value.queryId).toBe("AAE qu3ry");
    });
  }
  test("field order does not matter", () => {
    const fields = base();
    const raw = signInitData(fields, TOKEN, { order: ["user", "hash", "start_param", "auth_date", "query_id"] });
    expect(validateInitData(raw, TOKEN, fresh()).ok).toBe(true);
  });
  test("a signature field stays inside the first-party data-check-string", () => {
    const fields = { ...base(), signature: "c2lnbmF0dXJl" };
    expect(validateInitData(signInitData(fields, TOKEN), TOKEN, fresh()).ok).toBe(true);
    // Signed without it, then added: the hash no longer covers what was sent.
    const raw = signInitData(base(), TOKEN) + "&signature=c2lnbmF0dXJl";
    const r = validateInitData(raw, TOKEN, fresh());
    expect(r.ok ? null : r.code).toBe("bad_hash");
  });
  test("tampered hash, tampered value, other token → bad_hash (401)", () => {
    const raw = signInitData(base(), TOKEN);
    for (const bad of [tamperHash(raw), raw.replace("ada_l", "eve_l"), raw]) {
      const r = validateInitData(bad, bad === raw ? "987654321:OTHER_fake_token_for_tests_00000000" : TOKEN, fresh());
      expect(r.ok ? null : r.code).toBe("bad_hash");
    }
    expect(statusOf("bad_hash")).toBe(401);
    expect(validateInitData(raw.replace(/hash=[0-9a-f]+/, "hash=abc"), TOKEN, fresh()).ok).toBe(false);
  });
  test("missing hash, empty, repeated field, no auth_date, bad JSON → 400 codes", () => {
    const noHash = validateInitData("auth_date=1&user=%7B%7D", TOKEN, fresh());
    expect(noHash.ok ? null : noHash.code).toBe("missing_hash");
    expect(statusOf("missing_hash")).toBe(400);
    for (const raw of ["", "   ", "a=1&a=2&hash=00", "=x&hash=00"]) {
      const r = validateInitData(raw, TOKEN, fresh());
      expect(r.ok ? null : r.code).toBe("malformed");
    }
    const noDate = validateInitData(signInitData({ user: webAppUserJson(user) }, TOKEN), TOKEN, fresh());
    expect(noDate.ok ? null : noDate.code).toBe("malformed");
    const badJson = validateInitData(signInitData({ user: "{nope", auth_date: String(nowSeconds()) }, TOKEN), TOKEN, fresh());
    expect(badJson.ok ? null : badJson.code).toBe("malformed");
    const noId = validateInitData(signInitData({ user: '{"first_name":"x"}', auth_date: String(nowSeconds()) }, TOKEN), TOKEN, fresh());
    expect(noId.ok ? null : noId.code).toBe("malformed");
    expect(statusOf("malformed")).toBe(400);
  });
  test("auth_date: old → expired, 0 disables the age check, future beyond 60 s → expired", () => {
    const at = (secondsAgo: number) => signInitData({ ...base(), auth_date: String(nowSeconds() - secondsAgo) }, TOKEN);
    const now = Date.now();
    expect(validateInitData(at(3500), TOKEN, { maxAgeSeconds: 3600, now }).ok).toBe(true);
    const old = validateInitData(at(3700), TOKEN, { maxAgeSeconds: 3600, now });
    expect(old.ok ? null : old.code).toBe("expired");
    expect(statusOf("expired")).toBe(401);
    expect(validateInitData(at(10 * 365 * 86400), TOKEN, { maxAgeSeconds: 0, now }).ok).toBe(true);
    expect(validateInitData(at(-30), TOKEN, { maxAgeSeconds: 3600, now }).ok).toBe(true);
    const future = validateInitData(at(-120), TOKEN, { maxAgeSeconds: 0, now });
    expect(future.ok ? null : future.code).toBe("expired");
    expect(checkAuthDate(nowSeconds(), 60, Date.now(), "x")).toBeNull();
  });
});

describe("parsing helpers", () => {
  test("parseInitDataFields decodes '+' and '%20' alike", () => {
    const r = parseInitDataFields("a=x+y&b=x%20y&c=%F0%9F%9A%80");
    expect(r).toEqual({ ok: true, value: { a: "x y", b: "x y", c: "🚀" } });
  });
  test("dataCheckString sorts and drops the excluded keys", () => {
    expect(dataCheckString({ b: "2", hash: "h", a: "1", signature: "s" }, ["hash"])).toBe("a=1\nb=2\nsignature=s");
    expect(dataCheckString({ b: "2", hash: "h", a: "1", signature: "s" }, ["hash", "signature"])).toBe("a=1\nb=2");
  });
});

test("a __proto__ field is an ordinary signed field", () => {
  const token = "123456789:TEST_fake_token_for_tests_only_0000000";
  const fields = JSON.parse(`{"__proto__":"x","auth_date":"${nowSeconds()}"}`) as Record<string, string>;
  const raw = signInitData(fields, token);
  expect(raw).toContain("__proto__=x");
  const r = validateInitData(raw, token, { maxAgeSeconds: 0, now: Date.now() });
  if (!r.ok) throw new Error(r.message);
  expect(Object.keys(r.value.fields)).toContain("__proto__");
});
