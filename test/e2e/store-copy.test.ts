import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createAdminClient, createToken } from "../support/admin";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { startGateway } from "../support/gateways";
import { HAVE_POSTGRES, PG_PASSWORD, sharedPostgres, type TestPostgres } from "../support/postgres";
import { nowSeconds, signInitData, webAppUserJson } from "../support/telegram-auth";
import { messageUpdate, postUpdate, removeDir, runTgwh, startTgwh, tempDir, TEST_BOT_TOKEN, waitFor, type TgwhProcess } from "../support/tgwh";

/**
 * `tgwh store copy --to postgres://…` end to end: a real SQLite deployment made by the binary
 * (updates processed, a token, a signed-in user and its session), plus a job acknowledged but not
 * yet run, copied into an empty PostgreSQL; then the binary on PostgreSQL serves from the copy.
 */
const E2E_TIMEOUT = 60_000;

describe.skipIf(!HAVE_POSTGRES)("tgwh store copy", () => {
  let server: TestPostgres;
  let api: FakeBotApi;
  let dir: string;
  let dbPath: string;
  let target: { name: string; url: string; drop(): Promise<void> };
  let token: string;
  let session: string;
  let usedInitData: string;
  let pg: TgwhProcess | null = null;
  const sqliteEnv = () => ({ TGWH_DB: dbPath, TGWH_LISTEN: "127.0.0.1:1" });

  beforeAll(async () => {
    server = await sharedPostgres();
    api = startFakeBotApi();
    dir = tempDir();
    dbPath = join(dir, "tgwh.db");
    target = await server.createEmptyDatabase();
    // The SQLite deployment: three updates processed, a token, a user signed in.
    const lite = await startTgwh({ dir, dbPath, env: { TGWH_TELEGRAM_API: api.url } });
    try {
      for (const id of [1, 2, 3]) expect((await postUpdate(lite.url, messageUpdate(id, 77, "/start"))).status).toBe(200);
      await waitFor(() => api.callsOf("sendMessage").length === 3, 20_000, "three replies on SQLite", lite.logs);
      token = await createToken(dbPath, "ci-bot", "operator");
      const initData = signInitData({ user: webAppUserJson({ id: 4242, first_name: "Ada" }), auth_date: String(nowSeconds()) }, TEST_BOT_TOKEN);
      usedInitData = initData;
      const res = await fetch(`${lite.url}/auth/telegram/webapp`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ initData }) });
      expect(res.status).toBe(200);
      session = ((await res.json()) as { token: string }).token;
    } finally {
      expect(await lite.stop()).toBe(0);
    }
    // An update acknowledged just before the stop and not yet run (as a stop between ack and claim leaves it).
    const db = new Database(dbPath);
    db.run(
      `INSERT INTO jobs (kind, dedupe_key, order_key, seq, ready, payload, state, attempts, max_attempts, run_at, created_at)
       VALUES ('telegram.update', 'update:4', 'chat:78', 4, 1, ?, 'pending', 0, 8, ?, ?)`,
      [JSON.stringify(messageUpdate(4, 78, "/start")), Date.now(), Date.now()],
    );
    // A job finished before the dedupe window: retention would prune it; the copy leaves it behind.
    const old = Date.now() - 8 * 86_400_000;
    db.run(
      `INSERT INTO jobs (kind, dedupe_key, order_key, seq, ready, payload, state, attempts, max_attempts, run_at, created_at, finished_at)
       VALUES ('telegram.update', 'update:0', 'chat:77', 0, 1, '{}', 'done', 1, 8, ?, ?, ?)`,
      [old, old, old],
    );
    db.close();
  }, E2E_TIMEOUT);
  afterAll(async () => {
    await pg?.stop();
    api?.stop();
    await target?.drop();
    if (dir) removeDir(dir);
  });

  test("copies what a running service needs and says what it copied; the password never shows", async () => {
    const res = await runTgwh(["store", "copy", "--to", target.url], sqliteEnv());
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`to postgres://tgwh@127.0.0.1:${server.port}/${target.name}`);
    expect(res.stdout).toMatch(/jobs: 4 \(1 pending, 0 running → pending, 0 dead, 3 done and 0 discarded inside the 7-day dedupe window\); 1 older finished jobs left behind/);
    expect(res.stdout).toMatch(/users: 1, service accounts: 1, audit entries: \d+, settings: [1-9]\d*, initData sign-ins still refused as replays: 1/);
    expect(res.stdout + res.stderr).not.toContain(PG_PASSWORD);
    const [audit] = await server.admin<{ action: string; actor: string }>("SELECT action, actor FROM audit_log ORDER BY id DESC LIMIT 1", [], target.name);
    expect(audit).toMatchObject({ action: "store.copy" });
  }, E2E_TIMEOUT);

  test("refuses a target that is not empty (exit 2), and changes nothing", async () => {
    const [before] = await server.admin<{ n: number }>("SELECT count(*)::int AS n FROM jobs", [], target.name);
    const urlFile = join(dir, "database_url");
    writeFileSync(urlFile, `${target.url}\n`, { mode: 0o600 });
    const res = await runTgwh(["store", "copy", "--to-file", urlFile], sqliteEnv());
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/is not empty \(jobs: \d+/);
    expect(res.stderr).not.toContain(PG_PASSWORD);
    const [after] = await server.admin<{ n: number }>("SELECT count(*)::int AS n FROM jobs", [], target.name);
    expect(after).toEqual(before!);
  }, E2E_TIMEOUT);

  test("the binary on PostgreSQL runs the copied pending job, dedupes copied update_ids, accepts the copied token and session", async () => {
    pg = await startGateway({ databaseUrl: target.url, instanceId: "after-copy", env: { TGWH_TELEGRAM_API: api.url } });
    await waitFor(() => api.callsOf("sendMessage").some((c) => c.payload.chat_id === 78), 20_000, "the copied pending job to run", pg.logs);
    const dup = await postUpdate(pg.url, messageUpdate(2, 77, "/start"));
    expect(await dup.json()).toEqual({ ok: true, duplicate: true });
    const admin = createAdminClient(pg.url);
    const jobs = await admin.call("GET", "/admin/jobs?limit=10", token);
    expect(jobs.status).toBe(200);
    const me = await fetch(`${pg.url}/auth/me`, { headers: { authorization: `Bearer ${session}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user: { id: number } }).user.id).toBe(4242);
    // The initData that signed in on SQLite is still a replay on PostgreSQL.
    const replay = await fetch(`${pg.url}/auth/telegram/webapp`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ initData: usedInitData }) });
    expect(replay.status).not.toBe(200);
    // New jobs get ids after the copied ones.
    expect((await postUpdate(pg.url, messageUpdate(5, 77, "/start"))).status).toBe(200);
    const [ids] = await server.admin<{ dup: number }>("SELECT count(*) - count(DISTINCT id) AS dup FROM jobs", [], target.name);
    expect(Number(ids!.dup)).toBe(0);
    expect(pg.logs()).not.toContain(PG_PASSWORD);
  }, E2E_TIMEOUT);

  test("usage errors: no target, a non-postgres URL, TGWH_DATABASE_URL set", async () => {
    expect((await runTgwh(["store", "copy"], sqliteEnv())).code).toBe(2);
    const bad = await runTgwh(["store", "copy", "--to", "mysql://x@y/z"], sqliteEnv());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("postgres://");
    const both = await runTgwh(["store", "copy", "--to", target.url], { TGWH_DATABASE_URL: target.url });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("TGWH_DATABASE_URL is set");
  }, E2E_TIMEOUT);
});
