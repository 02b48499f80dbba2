import { describe, expect, test } from "bun:test";
import { findChromium } from "../support/chromium";

/** How the browser tests find Chromium (test/support/chromium.ts). */
describe("findChromium", () => {
  const onPath = (names: Record<string, string>) => (name: string) => names[name] ?? null;

  test("TGWH_CHROMIUM wins over PATH", () => {
    expect(findChromium({ TGWH_CHROMIUM: "/opt/chromium/chrome" }, onPath({ chromium: "/usr/bin/chromium" }), () => true)).toBe("/opt/chromium/chrome");
  });
  test("a TGWH_CHROMIUM that is not executable is an error naming it", () => {
    expect(() => findChromium({ TGWH_CHROMIUM: "/nope/chrome" }, onPath({}), () => false)).toThrow("TGWH_CHROMIUM=/nope/chrome is not an executable file");
  });
  test("chromium on PATH, then chromium-browser", () => {
    expect(findChromium({}, onPath({ chromium: "/usr/bin/chromium", "chromium-browser": "/usr/bin/chromium-browser" }))).toBe("/usr/bin/chromium");
    expect(findChromium({}, onPath({ "chromium-browser": "/usr/local/bin/chromium-browser" }))).toBe("/usr/local/bin/chromium-browser");
  });
  test("null when there is none", () => {
    expect(findChromium({ TGWH_CHROMIUM: "  " }, onPath({}))).toBeNull();
  });
});
