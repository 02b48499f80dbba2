import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS } from "../support/chromium";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { nowSeconds, signInitData, tamperHash, webAppUserJson } from "../support/telegram-auth";
import { startTgwh, TEST_BOT_TOKEN, waitFor, type TgwhProcess } from "../support/tgwh";

/**
 * The Mini App page in a real (headless Debian) Chromium against the compiled binary. Telegram's
 * telegram-web-app.js is replaced by a shim that hands the page initData signed for the test
 * token, as a Telegram client would; nothing else may leave 127.0.0.1.
 */
const TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js";
const ARTIFACTS = resolve(import.meta.dir, "../../test-artifacts");
/** Per test: Chromium on a busy 2-core machine is slow; this bounds a hang, it measures nothing. */
const BROWSER_TEST_TIMEOUT = 30_000;

let api: FakeBotApi;
let tg: TgwhProcess;
let browser: Browser;

beforeAll(async () => {
  if (!CHROMIUM) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  api = startFakeBotApi();
  tg = await startTgwh({ env: { TGWH_TELEGRAM_API: api.url } });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
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
  /** Every request to tgwh, as "METHOD /path". */
  calls: string[];
  /** Content-Security-Policy violations the page reported. */
  csp: string[];
}

/** Reads the settled page. */
async function settle(page: Page, screenshot: string): Promise<Pick<Visit, "status" | "state" | "detail">> {
  await page.waitForFunction(() => document.getElementById("status")?.getAttribute("data-state") !== "loading", undefined, { timeout: 10_000 });
  const status = (await page.textContent("#status")) ?? "";
  const state = await page.getAttribute("#status", "data-state");
  const detail = (await page.textContent("#detail")) ?? "";
  await page.screenshot({ path: `${ARTIFACTS}/${screenshot}`, fullPage: true });
  return { status, state, detail };
}

/** Opens /app with the shim, waits for the page to settle, records every request's host. */
async function visit(initData: string | null, screenshot: string): Promise<Visit> {
  const page = await browser.newPage();
  const offHost: string[] = [];
  const calls: string[] = [];
  const csp: string[] = [];
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (url.hostname === "127.0.0.1") calls.push(`${req.method()} ${url.pathname}`);
    else if (req.url() !== TELEGRAM_SCRIPT) offHost.push(req.url());
  });
  page.on("console", (msg) => {
    if (/Content Security Policy/i.test(msg.text())) csp.push(msg.text());
  });
  await page.route(TELEGRAM_SCRIPT, (route) => route.fulfill({ status: 200, contentType: "text/javascript; charset=utf-8", body: shim(initData) }));
  await page.goto(`${tg.url}/app`);
  return { page, offHost, calls, csp, ...(await settle(page, screenshot)) };
}

// Each opening of a Mini App brings a new initData (a new query_id); the same one twice is a replay.
let queryCounter = 0;
const initDataFor = (user: Record<string, unknown>) =>
  signInitData(
    { query_id: `AAHdF6IQAAAAAN0XohDh${String(++queryCounter).padStart(4, "0")}`, user: webAppUserJson(user as { id: number; first_name: string }), auth_date: String(nowSeconds()) },
    TEST_BOT_TOKEN,
  );

describe.skipIf(!CHROMIUM)("GET /app in headless Chromium", () => {
  test("signed initData → 'Signed in as …' with the user's name; only loopback requests", async () => {
    const v = await visit(initDataFor({ id: 6660001, first_name: "Ada", last_name: "Lovelace 🚀", username: "ada_l" }), "mini-app-signed-in.png");
    expect(v.state).toBe("signed-in");
    expect(v.status).toBe("Signed in as Ada Lovelace 🚀 (@ada_l)");
    expect(v.detail).toContain("Session valid until");
    expect(await v.page.evaluate(() => (window as unknown as { __readyCalled?: boolean }).__readyCalled)).toBe(true);
    // The session is kept for this tab only: sessionStorage, never localStorage or a cookie.
    expect(await v.page.evaluate(() => localStorage.length + document.cookie.length)).toBe(0);
    expect(await v.page.evaluate(() => Object.keys(sessionStorage))).toEqual(["tgwh.session"]);
    expect(v.offHost).toEqual([]);
    expect(v.csp).toEqual([]);
    await v.page.close();
  }, BROWSER_TEST_TIMEOUT);

  test("a reload inside the Mini App keeps the session (no second sign-in); the same initData in another tab is a refused replay", async () => {
    const initData = initDataFor({ id: 6660004, first_name: "Rita" });
    const v = await visit(initData, "mini-app-before-reload.png");
    expect(v.state).toBe("signed-in");
    await v.page.reload();
    const again = await settle(v.page, "mini-app-after-reload.png");
    expect(again).toMatchObject({ state: "signed-in", status: "Signed in as Rita" });
    expect(v.calls.filter((c) => c === "POST /auth/telegram/webapp")).toHaveLength(1);
    expect(v.calls.filter((c) => c === "GET /auth/me")).toHaveLength(2);
    // Someone who copied this initData (another tab has its own sessionStorage) gets nothing.
    const thief = await visit(initData, "mini-app-replayed.png");
    expect(thief.state).toBe("error");
    expect(thief.detail).toContain("already used");
    expect(v.csp.concat(thief.csp)).toEqual([]);
    await thief.page.close();
    await v.page.close();
  }, BROWSER_TEST_TIMEOUT);

  test("another site cannot frame /app (CSP frame-ancestors: Telegram's web clients only)", async () => {
    const res = await fetch(`${tg.url}/app`);
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors https://web.telegram.org https://webk.telegram.org https://webz.telegram.org");
    const framer = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(`<!doctype html><iframe id="f" src="${tg.url}/app"></iframe>`, { headers: { "content-type": "text/html" } }) });
    const page = await browser.newPage();
    const refused: string[] = [];
    page.on("console", (msg) => {
      if (msg.text().includes("frame-ancestors")) refused.push(msg.text());
    });
    try {
      await page.route(TELEGRAM_SCRIPT, (route) => route.fulfill({ status: 200, contentType: "text/javascript; charset=utf-8", body: shim(initDataFor({ id: 6660005, first_name: "Frame" })) }));
      await page.goto(`http://127.0.0.1:${framer.port}/`);
      await waitFor(() => refused.length > 0, 10_000, "Chromium to refuse the frame");
      const frame = page.frames().find((f) => f !== page.mainFrame());
      expect(frame ? await frame.locator("#status").count() : 0).toBe(0);
      await page.screenshot({ path: `${ARTIFACTS}/mini-app-framed-elsewhere.png` });
    } finally {
      await page.close();
      framer.stop(true);
    }
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
