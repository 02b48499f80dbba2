import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createAdminClient, createToken } from "../support/admin";
import { insertDeadJob } from "../support/db";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { messageUpdate, postUpdate, removeDir, startTgwh, TEST_BOT_TOKEN, TEST_SECRET, waitFor, type TgwhProcess } from "../support/tgwh";

// Timeouts are ceilings, not performance assertions: waits for the worker; generous on a loaded CI box.
setDefaultTimeout(60_000);

/** The admin API's behaviour against the compiled binary: input rules, ids, effects, no secrets. */

const PUBLIC_URL = "https://bot.example.test";
let api: FakeBotApi;
let tgwh: TgwhProcess;
let client: ReturnType<typeof createAdminClient>;
const tok = { viewer: "", operator: "", admin: "", service: "" };

beforeAll(async () => {
  api = startFakeBotApi();
  tgwh = await startTgwh({ env: { TGWH_TELEGRAM_API: api.url, TGWH_PUBLIC_URL: PUBLIC_URL } });
  client = createAdminClient(tgwh.url);
  for (const role of ["viewer", "operator", "admin", "service"] as const) tok[role] = await createToken(tgwh.dbPath, `api-${role}`, role);
}, 30_000);

afterAll(async () => {
  await tgwh?.stop();
  api?.stop();
  if (tgwh) removeDir(tgwh.dir);
});

const jobState = async (id: number) => (await client.call("GET", `/admin/jobs/${id}`, tok.viewer)).json.state as string;

describe("bad input: 400 naming the field, nothing changes", () => {
  const cases: [string, string, unknown, string][] = [
    ["GET", "/admin/jobs?state=bogus", undefined, "state"],
    ["GET", "/admin/jobs?limit=0", undefined, "limit"],
    ["GET", "/admin/jobs?cursor=abc", undefined, "cursor"],
    ["GET", "/admin/jobs/abc", undefined, "id"],
    ["GET", "/admin/updates/-1", undefined, "updateId"],
    ["POST", "/admin/notifications", { chatId: 42 }, "text"],
    ["POST", "/admin/notifications", { chatId: "not a chat", text: "x" }, "chatId"],
    ["POST", "/admin/notifications", { chatId: 42, text: "x", parseMode: "BBCode" }, "parseMode"],
    ["POST", "/admin/notifications", { chatId: 42, text: "" }, "text"],
    ["POST", "/admin/jobs/retry-dead", { limit: 5000 }, "limit"],
    ["POST", "/admin/webhook", { maxConnections: 101 }, "maxConnections"],
    ["POST", "/admin/service-accounts", { name: "x", role: "root" }, "role"],
    ["POST", "/admin/service-accounts", { name: "bad name!", role: "viewer" }, "name"],
  ];
  for (const [method, path, body, field] of cases) {
    test(`${method} ${path} ${body ? JSON.stringify(body) : ""} → 400 naming ${field}`, async () => {
      const res = await client.call(method, path, tok.admin, body);
      expect(res.status).toBe(400);
      expect(res.json.ok).toBe(false);
      expect(res.json.error).toContain(field);
    });
  }
  test("a body that is not JSON is a 400 too", async () => {
    const res = await client.call("POST", "/admin/notifications", tok.operator, "{not json");
    expect(res.status).toBe(400);
  });
  test("none of these created a job or an account", async () => {
    const q = await client.call("GET", "/admin/jobs?kind=notify.send", tok.viewer);
    expect(q.json.jobs).toEqual([]);
    const accounts = (await client.call("GET", "/admin/service-accounts", tok.admin)).json.accounts as { name: string }[];
    expect(accounts.map((a) => a.name).sort()).toEqual(["api-admin", "api-operator", "api-service", "api-viewer"]);
  });
});

describe("unknown ids: 404", () => {
  for (const [method, path] of [
    ["GET", "/admin/jobs/987654"],
    ["POST", "/admin/jobs/987654/retry"],
    ["GET", "/admin/updates/987654"],
    ["DELETE", "/admin/service-accounts/nobody"],
  ] as const) {
    test(`${method} ${path}`, async () => {
      const res = await client.call(method, path, tok.admin);
      expect(res.status).toBe(404);
      expect(res.json.error).toMatch(/no /);
    });
  }
});

describe("queue, updates and jobs", () => {
  test("a stored update is visible by update_id; its payload only for admin", async () => {
    expect((await postUpdate(tgwh.url, messageUpdate(5001, 4242, "hello admin"))).status).toBe(200);
    await waitFor(async () => (await client.call("GET", "/admin/updates/5001", tok.viewer)).json?.state === "done", 10_000, "update 5001 done");
    const asViewer = await client.call("GET", "/admin/updates/5001", tok.viewer);
    expect(asViewer.json).toMatchObject({ kind: "telegram.update", updateId: 5001, state: "done", attempts: 1, orderKey: "chat:4242" });
    expect(asViewer.json.payload).toBeUndefined();
    expect(asViewer.text).not.toContain("hello admin");
    const asAdmin = await client.call("GET", "/admin/updates/5001", tok.admin);
    expect(asAdmin.json.payload.message.text).toBe("hello admin");
  });

  test("GET /admin/queue counts by state and kind and shows the worker", async () => {
    const res = await client.call("GET", "/admin/queue", tok.viewer);
    expect(res.status).toBe(200);
    expect(res.json.byState.done).toBeGreaterThanOrEqual(1);
    expect(res.json.doneEstimate).toBe(res.json.byState.done);
    expect(res.json.dead).toBe(0);
    expect(res.json.countLimit).toBeGreaterThan(0);
    expect(res.json.worker.running).toBe(true);
    expect(typeof res.json.oldestPendingAgeSeconds).toBe("number");
  });

  test("retrying a dead job runs it again; a done job cannot be retried (409)", async () => {
    const id = insertDeadJob(tgwh.dbPath, { dedupeKey: "notify:dead-1", orderKey: "send:chat:77", payload: { chatId: 77, text: "revived" } });
    expect(await jobState(id)).toBe("dead");
    const listed = await client.call("GET", "/admin/jobs?state=dead", tok.viewer);
    expect(listed.json.jobs.map((j: { id: number }) => j.id)).toContain(id);
    expect(listed.json.jobs[0].lastError).toBe("Bad Gateway (502)");

    const retried = await client.call("POST", `/admin/jobs/${id}/retry`, tok.operator);
    expect(retried.status).toBe(200);
    expect(retried.json).toMatchObject({ id, state: "pending", attempts: 0 });
    await waitFor(async () => (await jobState(id)) === "done", 10_000, "retried job done");
    expect(api.callsOf("sendMessage").some((c) => c.payload.text === "revived" && c.payload.chat_id === 77)).toBe(true);

    const again = await client.call("POST", `/admin/jobs/${id}/retry`, tok.operator);
    expect(again.status).toBe(409);
    expect(again.json.error).toContain("only dead jobs");
  });

  test("a notification Telegram refuses for good (403) ends discarded: listed by ?state=discarded, counted, never retried", async () => {
    api.failNext("sendMessage", { kind: "error", code: 403, description: "Forbidden: bot was blocked by the user" });
    const sent = await client.call("POST", "/admin/notifications", tok.operator, { chatId: 4303, text: "you blocked me" });
    expect(sent.status).toBe(202);
    const id = sent.json.jobId as number;
    await waitFor(async () => (await jobState(id)) === "discarded", 10_000, "job discarded");
    const listed = await client.call("GET", "/admin/jobs?state=discarded", tok.viewer);
    expect(listed.status).toBe(200);
    expect(listed.json.jobs.map((j: { id: number }) => j.id)).toEqual([id]);
    expect(listed.json.jobs[0]).toMatchObject({ state: "discarded", attempts: 1 });
    expect(listed.json.jobs[0].lastError).toContain("bot was blocked by the user");
    expect(listed.json.jobs[0].finishedAt).not.toBeNull();
    const queue = await client.call("GET", "/admin/queue", tok.viewer);
    expect(queue.json.byState.discarded).toBe(1);
    expect(queue.json.counts).toContainEqual({ state: "discarded", kind: "notify.send", count: 1 });
    const retry = await client.call("POST", `/admin/jobs/${id}/retry`, tok.operator);
    expect(retry.status).toBe(409);
    expect(retry.json.error).toContain("is discarded");
  });

  test("retry-dead retries a bounded batch and says how many are left", async () => {
    const ids = [1, 2, 3].map((i) => insertDeadJob(tgwh.dbPath, { dedupeKey: `notify:batch-${i}`, orderKey: `send:chat:${900 + i}`, payload: { chatId: 900 + i, text: `batch ${i}` } }));
    const first = await client.call("POST", "/admin/jobs/retry-dead", tok.operator, { limit: 2 });
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ retried: ids.slice(0, 2), remaining: 1 });
    const second = await client.call("POST", "/admin/jobs/retry-dead", tok.operator, {});
    expect(second.json).toEqual({ retried: [ids[2]], remaining: 0 });
    for (const id of ids) await waitFor(async () => (await jobState(id)) === "done", 10_000, `job ${id} done`);
  });

  test("jobs are paged with a cursor, newest first, without gaps or repeats", async () => {
    for (let i = 0; i < 5; i++) {
      const r = await client.call("POST", "/admin/notifications", tok.operator, { chatId: 600 + i, text: `page ${i}` });
      expect(r.status).toBe(202);
    }
    const all = (await client.call("GET", "/admin/jobs?kind=notify.send&limit=500", tok.viewer)).json.jobs.map((j: { id: number }) => j.id);
    const walked: number[] = [];
    let cursor: string | null = null;
    do {
      const page: { json: { jobs: { id: number }[]; nextCursor: string | null } } = await client.call("GET", `/admin/jobs?kind=notify.send&limit=2${cursor ? `&cursor=${cursor}` : ""}`, tok.viewer);
      walked.push(...page.json.jobs.map((j) => j.id));
      cursor = page.json.nextCursor;
    } while (cursor);
    expect(walked).toEqual(all);
    expect([...walked].sort((a, b) => b - a)).toEqual(walked);
    expect(all.length).toBeGreaterThanOrEqual(9);
  });
});

describe("notifications", () => {
  test("202 with the job id; the same dedupeKey is one message", async () => {
    const body = { chatId: 4343, text: "deploy done", parseMode: "HTML", dedupeKey: "deploy-1" };
    const a = await client.call("POST", "/admin/notifications", tok.operator, body);
    const b = await client.call("POST", "/admin/notifications", tok.operator, body);
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.json.jobId).toBe(a.json.jobId);
    expect([a.json.duplicate, b.json.duplicate]).toEqual([false, true]);
    await waitFor(() => api.callsOf("sendMessage").some((c) => c.payload.chat_id === 4343), 10_000, "sendMessage to 4343");
    const job = (await client.call("GET", `/admin/jobs/${a.json.jobId}`, tok.admin)).json;
    expect(job).toMatchObject({ kind: "notify.send", dedupeKey: "notify:deploy-1", orderKey: "send:chat:4343", maxAttempts: 10 });
    expect(job.payload).toEqual({ chatId: 4343, text: "deploy done", parseMode: "HTML" });
    await Bun.sleep(100);
    expect(api.callsOf("sendMessage").filter((c) => c.payload.chat_id === 4343)).toHaveLength(1);
    expect(api.callsOf("sendMessage").find((c) => c.payload.chat_id === 4343)!.payload.parse_mode).toBe("HTML");
  });

  test("services post to /internal/notifications", async () => {
    const res = await client.call("POST", "/internal/notifications", tok.service, { chatId: "@some_channel", text: "from a service" });
    expect(res.status).toBe(202);
    await waitFor(() => api.callsOf("sendMessage").some((c) => c.payload.chat_id === "@some_channel"), 10_000, "sendMessage to the channel");
  });
});

describe("webhook management", () => {
  test("POST sets the webhook at the public URL with the current secret; GET shows Telegram's view; DELETE removes it", async () => {
    const set = await client.call("POST", "/admin/webhook", tok.operator, { maxConnections: 20, allowedUpdates: ["message"], dropPendingUpdates: true });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ url: `${PUBLIC_URL}/telegram/webhook`, allowedUpdates: ["message"], maxConnections: 20, dropPendingUpdates: true, kept: [] });
    const call = api.callsOf("setWebhook").at(-1)!;
    expect(call.payload).toMatchObject({ url: `${PUBLIC_URL}/telegram/webhook`, secret_token: TEST_SECRET, max_connections: 20, allowed_updates: ["message"], drop_pending_updates: true });
    // A POST without settings keeps the registered ones (a secret rotation must not reset them).
    const again = await client.call("POST", "/admin/webhook", tok.operator, {});
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ maxConnections: 20, allowedUpdates: ["message"], kept: ["max_connections", "allowed_updates"] });
    const typo = await client.call("POST", "/admin/webhook", tok.operator, { allowedUpdates: ["mesage"] });
    expect(typo.status).toBe(400);
    expect(typo.json.error).toContain("did you mean 'message'?");

    const info = await client.call("GET", "/admin/webhook", tok.viewer);
    expect(info.status).toBe(200);
    expect(info.json.expectedUrl).toBe(`${PUBLIC_URL}/telegram/webhook`);
    expect(info.json.telegram).toMatchObject({ pendingUpdateCount: 0 });
    expect(info.json.local).toMatchObject({ secretConfigured: true, secretRotationActive: false });

    const del = await client.call("DELETE", "/admin/webhook?dropPendingUpdates=true", tok.operator);
    expect(del.status).toBe(200);
    expect(api.callsOf("deleteWebhook").at(-1)!.payload).toMatchObject({ drop_pending_updates: true });
  });

  test("Telegram refusing is a 502 with its description, never the token", async () => {
    api.failNext("setWebhook", { kind: "error", code: 400, description: "Bad Request: bad webhook: HTTPS url must be provided for webhook" });
    const res = await client.call("POST", "/admin/webhook", tok.operator, {});
    expect(res.status).toBe(502);
    expect(res.json.error).toContain("bad webhook");
  });
});

describe("service accounts and the audit log", () => {
  test("create → the token works once shown; list never shows it; revoke → 401", async () => {
    const created = await client.call("POST", "/admin/service-accounts", tok.admin, { name: "ci-deploy", role: "operator" });
    expect(created.status).toBe(201);
    const token = created.json.token as string;
    expect(token).toMatch(/^tgwh_[A-Za-z0-9_-]{43}$/);
    expect((await client.call("GET", "/admin/queue", token)).status).toBe(200);
    const dup = await client.call("POST", "/admin/service-accounts", tok.admin, { name: "ci-deploy", role: "viewer" });
    expect(dup.status).toBe(409);

    const list = await client.call("GET", "/admin/service-accounts", tok.admin);
    expect(list.text).not.toContain(token);
    const ci = list.json.accounts.find((a: { name: string }) => a.name === "ci-deploy");
    expect(ci).toMatchObject({ role: "operator", revokedAt: null });
    expect(ci.lastUsedAt).not.toBeNull();
    expect(Object.keys(ci).sort()).toEqual(["createdAt", "id", "lastUsedAt", "name", "revokedAt", "role"]);

    const revoked = await client.call("DELETE", "/admin/service-accounts/ci-deploy", tok.admin);
    expect(revoked.status).toBe(200);
    expect(revoked.json.revokedAt).not.toBeNull();
    const after = await client.call("GET", "/admin/queue", token);
    expect(after.status).toBe(401);
    expect(after.headers.get("www-authenticate")).toContain("Bearer");
  });

  test("every mutating call left an audit row; the log pages newest first", async () => {
    const res = await client.call("GET", "/admin/audit?limit=500", tok.admin);
    const entries = res.json.entries as { id: number; actor: string; action: string; target: string | null; result: string }[];
    const has = (actor: string, action: string, result = "ok") => entries.some((e) => e.actor === actor && e.action === action && e.result.startsWith(result));
    expect(has("account:api-operator", "jobs.retry")).toBe(true);
    expect(has("account:api-operator", "jobs.retry", "error: job")).toBe(true);
    expect(has("account:api-operator", "jobs.retry_dead")).toBe(true);
    expect(has("account:api-operator", "notifications.send")).toBe(true);
    expect(has("account:api-service", "notifications.send")).toBe(true);
    expect(has("account:api-operator", "webhook.set")).toBe(true);
    expect(has("account:api-operator", "webhook.set", "error: Telegram refused")).toBe(true);
    expect(has("account:api-operator", "webhook.delete")).toBe(true);
    expect(has("account:api-admin", "service_accounts.create")).toBe(true);
    expect(has("account:api-admin", "service_accounts.revoke")).toBe(true);
    expect(has("cli:" + (entries.find((e) => e.actor.startsWith("cli:"))?.actor.slice(4) ?? ""), "service_accounts.create")).toBe(true);
    const page1 = await client.call("GET", "/admin/audit?limit=3", tok.admin);
    const page2 = await client.call("GET", `/admin/audit?limit=3&cursor=${page1.json.nextCursor}`, tok.admin);
    const ids = [...page1.json.entries, ...page2.json.entries].map((e: { id: number }) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(6);
  });

  test("no response body ever held the bot token, the webhook secret, a caller's token or a token hash", () => {
    const all = client.seen.join("\n");
    for (const s of [TEST_BOT_TOKEN, TEST_SECRET, ...Object.values(tok)]) expect(all.includes(s)).toBe(false);
    for (const t of Object.values(tok)) expect(all.includes(new Bun.CryptoHasher("sha256").update(t).digest("hex"))).toBe(false);
  });
});
