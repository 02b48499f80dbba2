import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { createToken } from "../support/admin";
import { insertDeadJob } from "../support/db";
import { CHROMIUM, CHROMIUM_ARGS } from "../support/chromium";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { removeDir, startTgwh, type TgwhProcess } from "../support/tgwh";

// Timeouts are ceilings, not performance assertions: Chromium on a loaded CI box.
setDefaultTimeout(60_000);

/**
 * /admin/docs in real headless Chromium against the compiled binary: Swagger UI loads from the
 * binary alone (no CDN), an operator token runs GET /admin/queue, a viewer token is refused a
 * retry, and no request leaves 127.0.0.1. The screenshots stay in test-artifacts/.
 */
const ARTIFACTS = resolve(import.meta.dir, "../../test-artifacts");

let api: FakeBotApi;
let tg: TgwhProcess;
let browser: Browser;
let page: Page;
let operatorToken: string;
let viewerToken: string;
let deadJobId: number;
const requests: string[] = [];
const pageErrors: string[] = [];
/** Every Content-Security-Policy violation the page reports: the page's own CSP must allow what it needs. */
const cspViolations: string[] = [];

beforeAll(async () => {
  if (!CHROMIUM) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  api = startFakeBotApi();
  tg = await startTgwh({ env: { TGWH_TELEGRAM_API: api.url } });
  operatorToken = await createToken(tg.dbPath, "docs-operator", "operator");
  viewerToken = await createToken(tg.dbPath, "docs-viewer", "viewer");
  deadJobId = insertDeadJob(tg.dbPath, { dedupeKey: "notify:docs-dead", payload: { chatId: 1, text: "x" } });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on("request", (req) => requests.push(req.url()));
  page.on("pageerror", (err) => pageErrors.push(err.message));
  page.on("console", (msg) => {
    if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
  });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await tg?.stop();
  api?.stop();
  if (tg) removeDir(tg.dir);
});

/** Swagger UI's Authorize dialog: paste the token, authorize, close. */
async function authorize(token: string): Promise<void> {
  await page.locator(".auth-wrapper button.authorize").click();
  const dialog = page.locator(".dialog-ux .modal-ux");
  await dialog.waitFor();
  await dialog.locator("input").fill(token);
  await dialog.locator("button.modal-btn.authorize").click();
  await dialog.locator("button.btn-done").click();
}

/** Opens one operation, fills path params, executes, returns the shown status and body. */
async function execute(operationId: string, params: Record<string, string> = {}): Promise<{ status: string; body: string }> {
  const op = page.locator(`[id$="-${operationId}"]`);
  if (!(await op.locator(".opblock-body").count())) await op.locator(".opblock-summary").first().click();
  const tryOut = op.locator("button.try-out__btn");
  if ((await tryOut.textContent())?.includes("Try it out")) await tryOut.click();
  for (const [name, value] of Object.entries(params)) await op.locator(`tr[data-param-name="${name}"] input`).fill(value);
  await op.locator("button.execute").click();
  const row = op.locator(".live-responses-table tr.response").first();
  await row.waitFor({ timeout: 10_000 });
  const status = row.locator(".response-col_status");
  const body = (await row.locator(".response-col_description pre").first().textContent()) ?? "";
  await row.scrollIntoViewIfNeeded();
  return { status: ((await status.textContent()) ?? "").trim(), body };
}

describe.skipIf(!CHROMIUM)("Swagger UI at /admin/docs", () => {
  test("loads from the binary, shows the API with its security scheme", async () => {
    const res = await page.goto(`${tg.url}/admin/docs`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()["content-security-policy"]).toStartWith("default-src 'self'");
    await page.locator(".swagger-ui .info .title").waitFor({ timeout: 15_000 });
    expect(await page.locator(".swagger-ui .info .title").textContent()).toContain("tgwh admin API");
    expect(await page.locator(".auth-wrapper button.authorize").count()).toBe(1);
    expect(await page.locator('[id$="-getAdminQueue"]').count()).toBe(1);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  test("an operator token executes GET /admin/queue: 200 with the counts", async () => {
    await authorize(operatorToken);
    const { status, body } = await execute("getAdminQueue");
    expect(status).toBe("200");
    const json = JSON.parse(body);
    expect(json.byState).toMatchObject({ dead: 1 });
    expect(json.counts).toContainEqual({ state: "dead", kind: "notify.send", count: 1 });
    await page.screenshot({ path: resolve(ARTIFACTS, "admin-docs-operator-queue.png"), fullPage: false });
  }, 60_000);

  test("a viewer token is refused POST /admin/jobs/{id}/retry with 403", async () => {
    // Tokens live only in the tab's memory (persistAuthorization off): a reload forgets the operator's.
    await page.reload();
    await page.locator(".swagger-ui .info .title").waitFor({ timeout: 15_000 });
    await authorize(viewerToken);
    const { status, body } = await execute("postAdminJobsByIdRetry", { id: String(deadJobId) });
    expect(status).toBe("403");
    expect(body).toContain("viewer");
    await page.screenshot({ path: resolve(ARTIFACTS, "admin-docs-viewer-403.png"), fullPage: false });
  }, 60_000);

  test("the page's own CSP refused nothing (Swagger UI's data: images, styles, scripts)", () => {
    expect(cspViolations).toEqual([]);
  });

  test("no request left 127.0.0.1", () => {
    expect(requests.length).toBeGreaterThan(3);
    const offHost = requests.filter((u) => {
      const url = new URL(u);
      return url.protocol !== "data:" && url.hostname !== "127.0.0.1";
    });
    expect(offHost).toEqual([]);
    expect(requests).toContain(`${tg.url}/admin/docs/swagger-ui-bundle.js`);
    expect(requests).toContain(`${tg.url}/admin/openapi.json`);
  });
});
