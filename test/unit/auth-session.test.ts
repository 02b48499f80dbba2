import { describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { telegramIdOf } from "../../src/auth/auth-result";
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
  test("secret: generated once and kept; a configured one wins and deletes the generated key", async () => {
    const store = new Map<string, string>();
    const settings = {
      getOrCreate: async (k: string, make: () => string) => (store.has(k) ? store.get(k)! : (store.set(k, make()), store.get(k)!)),
      delete: async (k: string) => store.delete(k),
    };
    const a = await resolveSessionSecret(null, settings);
    expect(a.secret.length).toBeGreaterThanOrEqual(32);
    expect(await resolveSessionSecret(null, settings)).toEqual({ secret: a.secret, deletedGenerated: false });
    expect(store.get(SESSION_SECRET_SETTING)).toBe(a.secret);
    // Configured: the stored key goes, so removing the variable later cannot bring it back.
    expect(await resolveSessionSecret(SECRET, settings)).toEqual({ secret: SECRET, deletedGenerated: true });
    expect(store.size).toBe(0);
    expect(await resolveSessionSecret(SECRET, settings)).toEqual({ secret: SECRET, deletedGenerated: false });
    expect((await resolveSessionSecret(null, settings)).secret).not.toBe(a.secret);
  });
  test("sub must be a plain positive safe integer, exp a safe integer within the longest TTL: else SessionError, never a crash", async () => {
    const now = 1_800_000_000_000;
    const s = createSessionIssuer({ secret: SECRET, ttlSeconds: 600, clock: () => now });
    const signed = (sub: string | undefined, exp: number) => {
      const jwt = new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setIssuer("tgwh").setAudience("tgwh-session").setExpirationTime(exp);
      return (sub === undefined ? jwt : jwt.setSubject(sub)).sign(new TextEncoder().encode(SECRET));
    };
    const exp = now / 1000 + 600;
    expect(await s.verify(await signed("777", exp))).toEqual({ telegramId: 777, expiresAt: exp });
    for (const sub of ["0x309", " 777 ", "777 ", "+777", "-5", "0", "0777", "1e3", "7.0", "9007199254740993", "99999999999999999", "", undefined]) {
      await expect(s.verify(await signed(sub, exp)), `sub ${JSON.stringify(sub)}`).rejects.toThrow("no valid subject");
    }
    for (const bad of [1e20, exp + 0.5, now / 1000 + 91 * 86400]) {
      await expect(s.verify(await signed("777", bad)), `exp ${bad}`).rejects.toBeInstanceOf(SessionError);
    }
  });
  test("telegramIdOf", () => {
    expect(telegramIdOf("42")).toBe(42);
    expect(telegramIdOf("9007199254740991")).toBe(9007199254740991);
    expect(telegramIdOf("9007199254740992")).toBeNull();
    expect(telegramIdOf(42)).toBeNull();
  });
  test("bearerToken", () => {
    expect(bearerToken("Bearer abc.def")).toBe("abc.def");
    expect(bearerToken("bearer  abc ")).toBe("abc");
    expect(bearerToken("Basic abc")).toBe("");
    expect(bearerToken(null)).toBe("");
  });
});
