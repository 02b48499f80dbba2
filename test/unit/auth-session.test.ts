import { describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { bearerToken, createSessionIssuer, resolveSessionSecret, SessionError, SESSION_SECRET_SETTING } from "../../src/auth/session";

const SECRET = "test_session_secret_0123456789_abcdefghijklmnop";

describe("session tokens", () => {
  test("issue → verify round trip with sub = telegram id and the TTL", async () => {
    let now = 1_800_000_000_000;
    const s = createSessionIssuer({ secret: SECRET, ttlSeconds: 600, clock: () => now });
    const { token, expiresAt } = await s.issue(42);
    expect(expiresAt).toBe(1_800_000_600);
    expect(await s.verify(token)).toEqual({ telegramId: 42, expiresAt: 1_800_000_600 });
    const [, payload] = token.split(".");
    expect(JSON.parse(Buffer.from(payload!, "base64url").toString())).toMatchObject({ sub: "42", exp: 1_800_000_600 });
    now += 601_000;
    await expect(s.verify(token)).rejects.toThrow("expired");
  });
  test("another secret, a tampered token, alg none, a missing token → SessionError", async () => {
    const s = createSessionIssuer({ secret: SECRET, ttlSeconds: 600, clock: Date.now });
    const other = createSessionIssuer({ secret: `${SECRET}x`, ttlSeconds: 600, clock: Date.now });
    const { token } = await other.issue(42);
    await expect(s.verify(token)).rejects.toBeInstanceOf(SessionError);
    const mine = (await s.issue(42)).token;
    await expect(s.verify(mine.slice(0, -2) + (mine.endsWith("AA") ? "BB" : "AA"))).rejects.toBeInstanceOf(SessionError);
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from('{"sub":"42","iss":"tgwh","aud":"tgwh-session","exp":9999999999}').toString("base64url")}.`;
    await expect(s.verify(none)).rejects.toBeInstanceOf(SessionError);
    await expect(s.verify("")).rejects.toThrow("no session token");
    // Right key, but not one of our session tokens (no issuer/audience).
    const foreign = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("42").setExpirationTime("1h").sign(new TextEncoder().encode(SECRET));
    await expect(s.verify(foreign)).rejects.toBeInstanceOf(SessionError);
  });
  test("secret: configured wins; otherwise generated once and kept", () => {
    const store = new Map<string, string>();
    const settings = { getOrCreate: (k: string, make: () => string) => (store.has(k) ? store.get(k)! : (store.set(k, make()), store.get(k)!)) };
    expect(resolveSessionSecret(SECRET, settings)).toBe(SECRET);
    expect(store.size).toBe(0);
    const a = resolveSessionSecret(null, settings);
    expect(a.length).toBeGreaterThanOrEqual(32);
    expect(resolveSessionSecret(null, settings)).toBe(a);
    expect(store.get(SESSION_SECRET_SETTING)).toBe(a);
  });
  test("bearerToken", () => {
    expect(bearerToken("Bearer abc.def")).toBe("abc.def");
    expect(bearerToken("bearer  abc ")).toBe("abc");
    expect(bearerToken("Basic abc")).toBe("");
    expect(bearerToken(null)).toBe("");
  });
});
