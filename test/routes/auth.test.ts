/**
 * src/auth/routes.ts in process: a sign-in through each route stores the user, queues the login
 * notification (TGWH_LOGIN_NOTIFY) and issues a session /auth/me accepts; refusals keep their
 * statuses and write nothing. Real SQLite store; the binary's version is test/e2e/auth-routes.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestService, type TestService } from "../support/service";
import { nowSeconds, signInitData, signWidgetFields, tamperHash, webAppUserJson } from "../support/telegram-auth";
import { TEST_BOT_TOKEN } from "../support/tgwh";

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ TGWH_LOGIN_NOTIFY: "1", TGWH_SESSION_SECRET: "routes_session_secret_0123456789abcdef0123" });
});
afterAll(() => t?.close());

const initDataFor = (id: number, first_name = "Ada") =>
  signInitData({ query_id: "AAHdF6IQAAAAAN0XohDhrOrc", user: webAppUserJson({ id, first_name, username: "ada" }), auth_date: String(nowSeconds()) }, TEST_BOT_TOKEN);

describe("sign-in routes", () => {
  test("Mini App initData: 200 with a session that /auth/me accepts; the user is stored, a notification queued", async () => {
    const res = await t.call("POST", "/auth/telegram/webapp", { body: { initData: initDataFor(9001) } });
    expect(res.status).toBe(200);
    const token = res.json.token as string;
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(res.json).toMatchObject({ ok: true, user: { id: 9001, firstName: "Ada", username: "ada" } });
    const me = await t.call("GET", "/auth/me", { token });
    expect(me.json).toMatchObject({ ok: true, user: { id: 9001 } });
    expect(await t.service.store.users.byId(9001)).toMatchObject({ telegramId: 9001, firstName: "Ada" });
    const queued = await t.service.store.jobs.list({ kind: "notify.send", limit: 10 });
    expect(queued.map((j) => j.orderKey)).toContain("send:chat:9001");
  });

  test("Login Widget fields: 200, the same session shape", async () => {
    const fields = signWidgetFields({ id: 9002, first_name: "Grace", auth_date: nowSeconds() }, TEST_BOT_TOKEN);
    const res = await t.call("POST", "/auth/telegram/widget", { body: fields });
    expect(res.status).toBe(200);
    expect(res.json.user).toMatchObject({ id: 9002, firstName: "Grace" });
  });

  test("a tampered hash: 401, no user stored", async () => {
    const res = await t.call("POST", "/auth/telegram/webapp", { body: { initData: tamperHash(initDataFor(9003)) } });
    expect(res.status).toBe(401);
    expect(res.json.ok).toBe(false);
    expect(await t.service.store.users.byId(9003)).toBeNull();
  });

  test("a body over 32 KiB: 413 before anything is parsed", async () => {
    const res = await t.call("POST", "/auth/telegram/webapp", { body: { initData: "x".repeat(40 * 1024) } });
    expect(res.status).toBe(413);
  });

  test("/auth/me without or with a bad token: 401 with WWW-Authenticate", async () => {
    for (const token of [undefined, "not.a.jwt"]) {
      const res = await t.call("GET", "/auth/me", { token });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toStartWith("Bearer");
    }
  });

  test("GET /app: the Mini App page with its CSP", async () => {
    const res = await t.call("GET", "/app");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self' https://telegram.org");
  });
});
