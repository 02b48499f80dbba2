import { describe, expect, test } from "bun:test";
import { retryDelayMs } from "../../src/queue/backoff";
import { scrubSecrets } from "../../src/log";
import { secretMatches } from "../../src/telegram/secret";

describe("retryDelayMs (full jitter)", () => {
  const policy = { baseMs: 1000, capMs: 60_000 };
  test("the ceiling doubles per attempt and stops at the cap", () => {
    const top = (a: number) => retryDelayMs(a, policy, () => 0.999999);
    expect(top(1)).toBe(999);
    expect(top(2)).toBe(1999);
    expect(top(3)).toBe(3999);
    expect(top(7)).toBe(59_999);
    expect(top(50)).toBe(59_999);
  });
  test("the delay is spread from 0 to the ceiling", () => {
    expect(retryDelayMs(4, policy, () => 0)).toBe(0);
    expect(retryDelayMs(4, policy, () => 0.5)).toBe(4000);
  });
});

describe("secretMatches", () => {
  test("accepts any of the accepted secrets and nothing else", () => {
    expect(secretMatches("new", ["new", "old"])).toBe(true);
    expect(secretMatches("old", ["new", "old"])).toBe(true);
    expect(secretMatches("ol", ["new", "old"])).toBe(false);
    expect(secretMatches(null, ["new"])).toBe(false);
    expect(secretMatches("", [])).toBe(false);
  });
  test("length is part of the compare: a prefix, an extension, padding zeros or an over-long header never match", () => {
    const max = "a".repeat(256);
    expect(secretMatches(max, [max])).toBe(true);
    expect(secretMatches(max.slice(1), [max])).toBe(false);
    expect(secretMatches(`${max}a`, [max])).toBe(false);
    expect(secretMatches(`${max}${"a".repeat(300)}`, [max])).toBe(false);
    expect(secretMatches("new\u0000", ["new"])).toBe(false);
    expect(secretMatches("", ["new"])).toBe(false);
    expect(secretMatches(`${"a".repeat(254)}é`, [`${"a".repeat(254)}e`])).toBe(false);
    expect(secretMatches(`${"a".repeat(255)}é`, [max])).toBe(false);
  });
  test("a header checked after another leaves nothing behind (the header's block is reused)", () => {
    expect(secretMatches("new-longer-secret", ["new"])).toBe(false);
    expect(secretMatches("new", ["new"])).toBe(true);
    expect(secretMatches("ne", ["new"])).toBe(false);
  });
});

describe("scrubSecrets", () => {
  test("replaces every occurrence, also inside URLs and error text", () => {
    const token = "123:ABCDEF";
    const line = `{"msg":"POST https://api.telegram.org/bot${token}/sendMessage failed","token":"${token}"}`;
    expect(scrubSecrets(line, [token])).toBe('{"msg":"POST https://api.telegram.org/bot[REDACTED]/sendMessage failed","token":"[REDACTED]"}');
  });
});
