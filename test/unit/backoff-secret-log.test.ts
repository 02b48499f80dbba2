import { describe, expect, test } from "bun:test";
import { retryDelayMs } from "../../src/queue/backoff";
import { scrubSecrets } from "../../src/log";
import { createSecretCheck } from "../../src/telegram/secret";

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

describe("createSecretCheck", () => {
  test("accepts any of the accepted secrets (a rotation's two) and nothing else", () => {
    const rotating = createSecretCheck(["new", "old"]);
    expect(rotating("new")).toBe(true);
    expect(rotating("old")).toBe(true);
    expect(rotating("ol")).toBe(false);
    expect(rotating("newold")).toBe(false);
    expect(rotating(null)).toBe(false);
    expect(createSecretCheck(["new"])(null)).toBe(false);
    expect(createSecretCheck([])("")).toBe(false);
    expect(createSecretCheck([])("new")).toBe(false);
  });
  test("length is part of the compare: a prefix, an extension, padding zeros or an over-long header never match", () => {
    const max = "a".repeat(256);
    const maxCheck = createSecretCheck([max]);
    expect(maxCheck(max)).toBe(true);
    expect(maxCheck(max.slice(1))).toBe(false);
    expect(maxCheck(`${max}a`)).toBe(false);
    expect(maxCheck(`${max}${"a".repeat(300)}`)).toBe(false);
    expect(maxCheck(`${"a".repeat(255)}é`)).toBe(false);
    const check = createSecretCheck(["new"]);
    expect(check("new\u0000")).toBe(false);
    expect(check("")).toBe(false);
    expect(createSecretCheck([`${"a".repeat(254)}e`])(`${"a".repeat(254)}é`)).toBe(false);
  });
  test("a header checked after another leaves nothing behind (the header's block is reused)", () => {
    const check = createSecretCheck(["new"]);
    expect(check("new-longer-secret")).toBe(false);
    expect(check("new")).toBe(true);
    expect(check("ne")).toBe(false);
    expect(check("new")).toBe(true);
  });
  test("each check holds its own blocks, built from the list as it was given", () => {
    const list = ["first"];
    const first = createSecretCheck(list);
    const second = createSecretCheck(["second"]);
    list[0] = "changed";
    expect(first("first")).toBe(true);
    expect(first("changed")).toBe(false);
    expect(second("second")).toBe(true);
    expect(second("first")).toBe(false);
    expect(first("second")).toBe(false);
  });
});

describe("scrubSecrets", () => {
  test("replaces every occurrence, also inside URLs and error text", () => {
    const token = "123:ABCDEF";
    const line = `{"msg":"POST https://api.telegram.org/bot${token}/sendMessage failed","token":"${token}"}`;
    expect(scrubSecrets(line, [token])).toBe('{"msg":"POST https://api.telegram.org/bot[REDACTED]/sendMessage failed","token":"[REDACTED]"}');
  });
});
