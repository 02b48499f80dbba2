import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { nowSeconds, signInitData, tamperHash, webAppUserJson } from "../support/telegram-auth";
import { startTgwh, TEST_BOT_TOKEN, type TgwhProcess } from "../support/tgwh";

/**
 * The Mini App page in a real (headless Debian) Chromium against the compiled binary. Telegram's
 * telegram-web-app.js is replaced by a shim that hands the page initData signed for the test
 * token, as a Telegram client would; nothing else may leave 127.0.0.1.
 */
const CHROMIUM = "/usr/bin/chromium";
const TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js";
const ARTIFACTS = resolve(import.meta.dir, "../../test-artifacts");
/** Per test: Chromium on a busy 2-core machine is slow; this bounds a hang, it measures nothing. */
const BROWSER_TEST_TIMEOUT = 30_000;

let api: FakeBotApi;
let tg: TgwhProcess;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  api = startFakeBotApi();
  tg = await startTgwh({ env: { TGWH_TELEGRAM_API: api.url } });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await tg?.stop();
  api?.stop();
});

/** What Telegram's script provides, reduced to what the page uses. */
const shim = (initData: string | null) =>
  initData === null
    ? "/* outside Telegram: the real script defines WebApp with an empty initData */ window.Telegram = { WebApp: { initData: '', initDataUnsafe: {}, ready() {} } };"
    : `window.Telegram = { WebApp: { initData: ${JSON.stringify(initData)}, initDataUnsafe: {}, ready() { window.__readyCalled = true; } } };`;

interface Visit {
  page: Page;
  status: string;
  state: string | null;
  detail: string;
  offHost: string[];
}

/** Opens /app with the shim, waits for the page to settle, records every request's host. */
async function visit(initData: string | null, screenshot: string): Promise<Visit> {
  const page = await browser.newPage();
  const offHost: string[] = [];
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (url.hostname !== "127.0.0.1" && req.url() !== TELEGRAM_SCRIPT) offHost.push(req.url());
  });
  await page.route(TELEGRAM_SCRIPT, (route) => route.fulfill({ status: 200, contentType: "text/javascript; charset=utf-8", body: shim(initData) }));
  await page.goto(`${tg.url}/app`);
  await page.waitForFunction(() => document.getElementById("status")?.getAttribute("data-state") !== "loading", undefined, { timeout: 10_000 });
  const status = (await page.textContent("#status")) ?? "";
  const state = await page.getAttribute("#status", "data-state");
  const detail = (await page.textContent("#detail")) ?? "";
  await page.screenshot({ path: `${ARTIFACTS}/${screenshot}`, fullPage: true });
  return { page, status, state, detail, offHost };
}

const initDataFor = (user: Record<string, unknown>) =>
  signInitData({ query_id: "AAHdF6IQAAAAAN0XohDhrOrc", user: webAppUserJson(user as { id: number; first_name: string }), auth_date: String(nowSeconds()) }, TEST_BOT_TOKEN);

describe("GET /app in headless Chromium", () => {
  test("signed initData → 'Signed in as …' with the user's name; only loopback requests", async () => {
    const v = await visit(initDataFor({ id: 6660001, first_name: "Ada", last_name: "Lovelace 🚀", username: "ada_l" }), "mini-app-signed-in.png");
    expect(v.state).toBe("signed-in");
    expect(v.status).toBe("Signed in as Ada Lovelace 🚀 (@ada_l)");
    expect(v.detail).toContain("Session valid until");
    expect(await v.page.evaluate(() => (window as unknown as { __readyCalled?: boolean }).__readyCalled)).toBe(true);
    // The token lives in memory only.
    expect(await v.page.evaluate(() => localStorage.length + sessionStorage.length + document.cookie.length)).toBe(0);
    expect(v.offHost).toEqual([]);
    await v.page.close();
  }, BROWSER_TEST_TIMEOUT);

  test("tampered initData → the error is shown, nobody signed in", async () => {
    const v = await visit(tamperHash(initDataFor({ id: 6660002, first_name: "Mallory" })), "mini-app-tampered.png");
    expect(v.state).toBe("error");
    expect(v.status).toBe("Sign-in failed.");
    expect(v.detail).toContain("hash does not match");
    expect(v.offHost).toEqual([]);
    await v.page.close();
  }, BROWSER_TEST_TIMEOUT);

  test("outside Telegram (no initData) → says it must be opened from the bot", async () => {
    const v = await visit(null, "mini-app-outside-telegram.png");
    expect(v.state).toBe("outside");
    expect(v.status).toContain("Open this page from the bot in Telegram");
    expect(v.offHost).toEqual([]);
    await v.page.close();
  }, BROWSER_TEST_TIMEOUT);

  test("a user name with markup is shown as text, not run as HTML", async () => {
    const v = await visit(initDataFor({ id: 6660003, first_name: "<img src=x onerror=window.__pwned=1>" }), "mini-app-markup-name.png");
    expect(v.state).toBe("signed-in");
    expect(v.status).toBe("Signed in as <img src=x onerror=window.__pwned=1>");
    expect(await v.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned ?? null)).toBeNull();
    expect(await v.page.locator("img").count()).toBe(0);
    await v.page.close();
  }, BROWSER_TEST_TIMEOUT);
});
