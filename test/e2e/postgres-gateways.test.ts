import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createAdminClient } from "../support/admin";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { startGateways, stopGateways } from "../support/gateways";
import { HAVE_POSTGRES, PG_PASSWORD, sharedPostgres } from "../support/postgres";
import { nowSeconds, signInitData, webAppUserJson } from "../support/telegram-auth";
import { messageUpdate, postUpdate, runTgwh, TEST_BOT_TOKEN, waitFor, type TgwhProcess } from "../support/tgwh";

/**
 * Two compiled gateways on one PostgreSQL (no Redis: each limits alone, and says so): one
 * update_id is processed once whichever gateway got it, sessions and tokens issued by one work
 * on the other, /readyz checks the database, /metrics tells the gateways apart and reports the
 * same shared queue, Swagger and the admin API answer, and the CLI works on the same database.
 */
const E2E_TIMEOUT = 60_000;

describe.skipIf(!HAVE_POSTGRES)("two gateways on one PostgreSQL", () => {
  let api: FakeBotApi;
  let gws: TgwhProcess[] = [];
  let db: { name: string; url: string; drop(): Promise<void> };
  const cli = (args: string[]) => runTgwh(args, { TGWH_DATABASE_URL: db.url });

  beforeAll(async () => {
    const server = await sharedPostgres();
    db = await server.createEmptyDatabase(); // the first gateway migrates it
    api = startFakeBotApi();
    gws = await startGateways(2, { databaseUrl: db.url, env: { TGWH_TELEGRAM_API: api.url } });
  }, E2E_TIMEOUT);
  afterAll(async () => {
    await stopGateways(gws);
    api?.stop();
    await db?.drop();
  });

  test("each update runs once whichever gateway received it, duplicates across gateways included", async () => {
    const [a, b] = gws as [TgwhProcess, TgwhProcess];
    const answers: unknown[] = [];
    for (let id = 1; id <= 10; id++) {
      for (const g of [a, b]) answers.push(await (await postUpdate(g.url, messageUpdate(id, 500 + (id % 3), "/start"))).json());
    }
    expect(answers.filter((x) => JSON.stringify(x) === '{"ok":true}')).toHaveLength(10);
    expect(answers.filter((x) => JSON.stringify(x) === '{"ok":true,"duplicate":true}')).toHaveLength(10);
    await waitFor(() => api.callsOf("sendMessage").length >= 10, 20_000, "ten replies");
    await Bun.sleep(300);
    expect(api.callsOf("sendMessage")).toHaveLength(10);
    for (const g of gws) expect(g.logs()).toContain("TGWH_REDIS_URL is not");
  }, E2E_TIMEOUT);

  test("a session issued by one gateway is accepted by the other", async () => {
    const [a, b] = gws as [TgwhProcess, TgwhProcess];
    const initData = signInitData({ user: webAppUserJson({ id: 31337, first_name: "Grace" }), auth_date: String(nowSeconds()) }, TEST_BOT_TOKEN);
    const res = await fetch(`${a.url}/auth/telegram/webapp`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ initData }) });
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    const me = await fetch(`${b.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user: { id: number; firstName: string } }).user).toMatchObject({ id: 31337, firstName: "Grace" });
  }, E2E_TIMEOUT);

  test("a token from the CLI, and one created through one gateway's admin API, work on the other", async () => {
    const [a, b] = gws as [TgwhProcess, TgwhProcess];
    const created = await cli(["token", "create", "--name", "root", "--role", "admin", "--json"]);
    expect(created.code).toBe(0);
    const root = (JSON.parse(created.stdout) as { token: string }).token;
    const viaA = await createAdminClient(a.url).call("POST", "/admin/service-accounts", root, { name: "svc", role: "viewer" });
    expect(viaA.status).toBe(201);
    const onB = await createAdminClient(b.url).call("GET", "/admin/queue", viaA.json.token);
    expect(onB.status).toBe(200);
    const audit = await createAdminClient(b.url).call("GET", "/admin/audit?limit=5", root);
    expect(audit.json.entries.map((e: { action: string }) => e.action)).toContain("service_accounts.create");
    const revoked = await createAdminClient(b.url).call("DELETE", "/admin/service-accounts/svc", root);
    expect(revoked.status).toBe(200);
    expect((await createAdminClient(a.url).call("GET", "/admin/queue", viaA.json.token)).status).toBe(401);
  }, E2E_TIMEOUT);

  test("/readyz checks the database; /metrics names the gateway and reports the shared queue alike; Swagger answers", async () => {
    for (const g of gws) {
      const ready = (await (await fetch(`${g.url}/readyz`)).json()) as { ok: boolean; checks: { name: string; ok: boolean }[] };
      expect(ready.ok).toBe(true);
      expect(ready.checks.filter((c) => c.name.startsWith("database") || c.name.startsWith("migrations")).every((c) => c.ok)).toBe(true);
      expect((await fetch(`${g.url}/admin/docs`)).status).toBe(200);
      expect((await fetch(`${g.url}/admin/openapi.json`)).status).toBe(200);
    }
    const scrape = async (g: TgwhProcess) => await (await fetch(`${g.url}/metrics`)).text();
    const [ma, mb] = await Promise.all(gws.map(scrape));
    expect(ma).toContain('tgwh_gateway_info{gateway="gw1",store="postgres"} 1');
    expect(mb).toContain('tgwh_gateway_info{gateway="gw2",store="postgres"} 1');
    const queue = (m: string) => m.split("\n").filter((l) => l.startsWith("tgwh_queue_jobs{") || l.startsWith("tgwh_queue_done_jobs_estimate "));
    expect(queue(ma!)).toEqual(queue(mb!));
    expect(ma).not.toMatch(/instance="/);
    expect(ma! + mb!).not.toContain(PG_PASSWORD);
  }, E2E_TIMEOUT);

  test("the CLI on the same database: migrate --status, jobs ls, token list, webhook info; backup and restore point at pg_dump; doctor checks PostgreSQL and Redis", async () => {
    const st = await cli(["migrate", "--status", "--json"]);
    expect(st.code).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ db: `postgres://tgwh@127.0.0.1:${new URL(db.url).port}/${db.name}`, pending: [] });
    const ls = await cli(["jobs", "ls", "--state", "done", "--json"]);
    expect(ls.code).toBe(0);
    expect(JSON.parse(ls.stdout).jobs.length).toBeGreaterThanOrEqual(10);
    const backup = await cli(["backup", "/tmp/never-written.db"]);
    expect(backup.code).not.toBe(0);
    expect(backup.stderr).toContain("pg_dump");
    expect(backup.code).toBe(2);
    const restore = await cli(["restore", "/tmp/never-read.db"]);
    expect(restore.code).toBe(2);
    expect(restore.stderr).toContain("pg_restore");
    const tokens = await cli(["token", "list", "--json"]);
    expect(tokens.code).toBe(0);
    expect(JSON.stringify(JSON.parse(tokens.stdout))).toContain('"root"');
    const hook = await runTgwh(["webhook", "info", "--json"], { TGWH_DATABASE_URL: db.url, TGWH_BOT_TOKEN: TEST_BOT_TOKEN, TGWH_TELEGRAM_API: api.url });
    expect(hook.code).toBe(0);
    const doctor = await cli(["doctor", "--json", "--timeout", "5"]);
    const checks = Object.fromEntries((JSON.parse(doctor.stdout) as { checks: { name: string; status: string }[] }).checks.map((c) => [c.name, c.status]));
    expect(checks).toMatchObject({ database: "OK", migrations: "OK", synchronous_commit: "OK", redis: "WARN" });
    expect(checks.disk).toBeUndefined();
    for (const r of [st, ls, backup, restore, tokens, hook, doctor]) expect(r.stdout + r.stderr).not.toContain(PG_PASSWORD);
  }, E2E_TIMEOUT);
});
