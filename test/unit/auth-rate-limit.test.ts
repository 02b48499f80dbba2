import { describe, expect, test } from "bun:test";
import { normaliseIp, proxyMatcher, resolveClientIp, trustedProxyMatcher } from "../../src/auth/client-ip";
import { createTokenBucketLimiter, takeToken } from "../../src/limits/rate-limiter";

// The bucket's behaviour, in process and on Redis alike: test/unit/limits-contract.test.ts.
describe("token bucket (in process)", () => {
  test("takeToken never over-fills and rounds Retry-After up to at least 1 s", () => {
    const full = takeToken({ tokens: 0, at: 0 }, 10, 10 / 60_000, 10 * 60_000);
    expect(full.bucket.tokens).toBe(9);
    const r = takeToken({ tokens: 0.99, at: 0 }, 10, 10 / 60_000, 0);
    expect(r.decision).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });
  test("memory stays bounded under many distinct keys", async () => {
    const l = createTokenBucketLimiter({ perMinute: 5, clock: () => 0, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) await l.take(`k${i}`);
    // The most recent key is still tracked (its token was spent).
    for (let i = 0; i < 4; i++) expect((await l.take("k999")).allowed).toBe(true);
    expect((await l.take("k999")).allowed).toBe(false);
  });
});

describe("client IP through trusted proxies", () => {
  const trusted = trustedProxyMatcher(["127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8"]);
  test("direct client: X-Forwarded-For from an untrusted peer is ignored", () => {
    expect(resolveClientIp("203.0.113.9", "1.2.3.4", trusted)).toBe("203.0.113.9");
  });
  test("behind nginx: the rightmost untrusted hop is the client; spoofed left entries do not count", () => {
    expect(resolveClientIp("127.0.0.1", "198.51.100.7", trusted)).toBe("198.51.100.7");
    expect(resolveClientIp("127.0.0.1", "6.6.6.6, 198.51.100.7", trusted)).toBe("198.51.100.7");
    expect(resolveClientIp("::ffff:127.0.0.1", "198.51.100.7, 10.1.2.3", trusted)).toBe("198.51.100.7");
    expect(resolveClientIp("::1", "2001:db8::1", trusted)).toBe("2001:db8::1");
    expect(resolveClientIp("127.0.0.1", "10.0.0.1, 10.0.0.2", trusted)).toBe("10.0.0.1");
    expect(resolveClientIp("127.0.0.1", "garbage", trusted)).toBe("127.0.0.1");
    expect(resolveClientIp("127.0.0.1", null, trusted)).toBe("127.0.0.1");
  });
  test("matchers: exact, CIDR v4/v6, mapped addresses; nonsense throws", () => {
    expect(proxyMatcher("10.0.0.0/8")("10.255.1.1")).toBe(true);
    expect(proxyMatcher("10.0.0.0/8")("11.0.0.1")).toBe(false);
    expect(proxyMatcher("192.168.1.0/24")("::ffff:192.168.1.77")).toBe(true);
    expect(proxyMatcher("fd00::/8")("fd12:3456::1")).toBe(true);
    expect(proxyMatcher("fd00::/8")("fe80::1")).toBe(false);
    expect(proxyMatcher("::1")("0:0:0:0:0:0:0:1")).toBe(true);
    expect(proxyMatcher("0.0.0.0/0")("8.8.8.8")).toBe(true);
    expect(() => proxyMatcher("nginx")).toThrow("not an IP");
    expect(() => proxyMatcher("10.0.0.0/33")).toThrow("prefix");
    expect(normaliseIp("[::1]")).toBe("::1");
  });
});
