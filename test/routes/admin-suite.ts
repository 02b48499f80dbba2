/**
 * src/admin/routes.ts in process: each route is a thin adapter over one operation
 * (src/operations/), so these check the adapter's three jobs: RBAC before anything, the
 * operation's effect and its one audit row, and each failure's status (http.ts maps them).
 * A real store (SQLite: admin.test.ts; PostgreSQL: admin-postgres.test.ts), fake Bot API; the
 * binary's version is test/e2e/admin-*.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AUDIT_ACTION } from "../../src/operations/actions";
import type { TestService } from "../support/service";

/** The admin route tests on the store `start` opens (a fresh one per call). */
export function adminRouteTests(engine: string, start: (env?: Record<string, string>) => Promise<TestService>): void {
  describe(`admin routes on ${engine}`, () => {
    let t: TestService;
    const tok = { viewer: "", operator: "", admin: "", service: "" };

    beforeAll(async () => {
      t = await start();
      for (const role of ["viewer", "operator", "admin", "service"] as const) tok[role] = await t.token(role, `routes-${role}`);
    }, 60_000);
    afterAll(() => t?.close(), 30_000);

    /** A job that used up its attempts, made the way the worker makes one. */
    async function deadJob(key: string, orderKey: string | null = null): Promise<number> {
      const { jobs } = t.service.store;
      const now = Date.now();
      await jobs.insert([{ kind: "notify.send", dedupeKey: key, orderKey, seq: 0, payload: JSON.stringify({ chatId: 1, text: "x" }), maxAttempts: 1, runAt: now }]);
      const { jobs: claimed } = await jobs.claim({ owner: "routes-test/1", leaseMs: 30_000, limit: 10, now });
      const job = claimed.find((j) => j.dedupeKey === key)!;
      await jobs.finish({ id: job.id, owner: "routes-test/1", orderKey, attempts: job.attempts, errors: job.errors }, { type: "dead", error: "Bad Gateway (502)" });
      return job.id;
    }

    /** The newest audit rows, newest first. */
    const audit = async (n = 1) => (await t.service.store.audit.page(n, null)).map((r) => ({ actor: r.actor, action: r.action, target: r.target, result: r.result }));

    describe("RBAC comes first", () => {
      test("no token: 401 with WWW-Authenticate; a viewer on an operator route: 403, audited as denied", async () => {
        const none = await t.call("POST", "/admin/jobs/retry-dead", { body: {} });
        expect(none.status).toBe(401);
        expect(none.headers.get("www-authenticate")).toBe('Bearer realm="tgwh"');
        const low = await t.call("POST", "/admin/jobs/1/retry", { token: tok.viewer });
        expect(low.status).toBe(403);
        expect(await audit()).toEqual([{ actor: "account:routes-viewer", action: AUDIT_ACTION.denied, target: "POST /admin/jobs/:id/retry", result: "denied" }]);
      });

      test("an operator may not call the internal route, a service may call nothing else", async () => {
        expect((await t.call("POST", "/internal/notifications", { token: tok.operator, body: { chatId: 1, text: "x" } })).status).toBe(403);
        expect((await t.call("GET", "/admin/queue", { token: tok.service })).status).toBe(403);
      });
    });

    describe("jobs", () => {
      test("retry a dead job: 200, pending again, one audit row", async () => {
        const id = await deadJob("notify:routes-dead-1");
        const res = await t.call("POST", `/admin/jobs/${id}/retry`, { token: tok.operator });
        expect(res.status).toBe(200);
        expect(res.json).toMatchObject({ id, state: "pending", attempts: 0 });
        expect((await t.service.store.jobs.byId(id))?.state).toBe("pending");
        expect(await audit()).toEqual([{ actor: "account:routes-operator", action: AUDIT_ACTION.retryJob, target: String(id), result: "ok" }]);
      });

      test("retry what is not dead: 409; what does not exist: 404; both audited as errors", async () => {
        const id = (await t.service.store.jobs.insert([{ kind: "notify.send", dedupeKey: "notify:routes-pending", orderKey: null, seq: 0, payload: "{}", maxAttempts: 1, runAt: Date.now() + 60_000 }]))[0]!.id;
        const conflict = await t.call("POST", `/admin/jobs/${id}/retry`, { token: tok.operator });
        expect({ status: conflict.status, json: conflict.json }).toEqual({ status: 409, json: { ok: false, error: `job ${id} is pending; only dead jobs can be retried` } });
        const missing = await t.call("POST", "/admin/jobs/987654/retry", { token: tok.operator });
        expect({ status: missing.status, json: missing.json }).toEqual({ status: 404, json: { ok: false, error: "no job with id 987654" } });
        expect(await audit(2)).toEqual([
          { actor: "account:routes-operator", action: AUDIT_ACTION.retryJob, target: "987654", result: "error: no job with id 987654" },
          { actor: "account:routes-operator", action: AUDIT_ACTION.retryJob, target: String(id), result: `error: job ${id} is pending; only dead jobs can be retried` },
        ]);
      });

      test("retry-dead: a bounded batch, the rest counted", async () => {
        const ids = [await deadJob("notify:routes-dead-a"), await deadJob("notify:routes-dead-b"), await deadJob("notify:routes-dead-c")];
        const res = await t.call("POST", "/admin/jobs/retry-dead", { token: tok.operator, body: { limit: 2 } });
        expect(res.status).toBe(200);
        expect(res.json).toEqual({ retried: ids.slice(0, 2), remaining: 1 });
        const rest = await t.call("POST", "/admin/jobs/retry-dead", { token: tok.operator });
        expect(rest.json).toEqual({ retried: [ids[2]], remaining: 0 });
        expect((await audit(1))[0]?.action).toBe(AUDIT_ACTION.retryDeadJobs);
      });

      test("reads: the queue, a page of jobs, one job, an update by update_id (404 when never stored)", async () => {
        expect((await t.call("GET", "/admin/queue", { token: tok.viewer })).json).toMatchObject({ worker: { running: false } });
        const page = await t.call("GET", "/admin/jobs?kind=notify.send&limit=2", { token: tok.viewer });
        expect(page.json.jobs).toHaveLength(2);
        expect(page.json.jobs[0].payload).toBeUndefined();
        expect((await t.call("GET", `/admin/jobs/${page.json.jobs[0].id}`, { token: tok.admin })).json.payload).toBeDefined();
        expect((await t.call("GET", "/admin/updates/424242", { token: tok.viewer })).status).toBe(404);
      });
    });

    describe("notifications: two routes, one operation", () => {
      test("operator and service queue the same way; the audit log tells them apart by actor", async () => {
        const a = await t.call("POST", "/admin/notifications", { token: tok.operator, body: { chatId: 77, text: "from ops", dedupeKey: "routes-n1" } });
        const b = await t.call("POST", "/internal/notifications", { token: tok.service, body: { chatId: 78, text: "from a service" } });
        expect([a.status, b.status]).toEqual([202, 202]);
        // Read before matching: bun 1.4's toMatchObject writes an asymmetric matcher into the received object.
        const jobId = a.json.jobId as number;
        expect(a.json).toEqual({ jobId, duplicate: false });
        const again = await t.call("POST", "/admin/notifications", { token: tok.operator, body: { chatId: 77, text: "from ops", dedupeKey: "routes-n1" } });
        expect(again.json).toEqual({ jobId, duplicate: true });
        expect(Number.isInteger(jobId)).toBe(true);
        const job = await t.service.store.jobs.byId(b.json.jobId);
        expect(job).toMatchObject({ kind: "notify.send", orderKey: "send:chat:78", state: "pending" });
        expect(JSON.parse(job!.payload)).toEqual({ chatId: 78, text: "from a service" });
        expect(await audit(3)).toEqual([
          { actor: "account:routes-operator", action: AUDIT_ACTION.queueNotification, target: "77", result: "ok" },
          { actor: "account:routes-service", action: AUDIT_ACTION.queueNotification, target: "78", result: "ok" },
          { actor: "account:routes-operator", action: AUDIT_ACTION.queueNotification, target: "77", result: "ok" },
        ]);
      });

      test("bad input: 400 naming the field, nothing queued, nothing audited", async () => {
        const before = await audit();
        const res = await t.call("POST", "/admin/notifications", { token: tok.operator, body: { chatId: 77, text: "" } });
        expect(res.status).toBe(400);
        expect(res.json.error).toContain("text");
        expect(await audit()).toEqual(before);
      });
    });

    describe("service accounts", () => {
      test("create: 201 with a token that works; the same name again: 409", async () => {
        const created = await t.call("POST", "/admin/service-accounts", { token: tok.admin, body: { name: "routes-ci", role: "viewer" } });
        expect(created.status).toBe(201);
        expect((await t.call("GET", "/admin/queue", { token: created.json.token })).status).toBe(200);
        const dup = await t.call("POST", "/admin/service-accounts", { token: tok.admin, body: { name: "routes-ci", role: "admin" } });
        expect(dup.status).toBe(409);
        expect(dup.json.error).toContain("already exists");
        expect(await audit(2)).toEqual([
          { actor: "account:routes-admin", action: AUDIT_ACTION.createAccount, target: "routes-ci", result: "error: a service account named 'routes-ci' already exists; revoke it or pick another name" },
          { actor: "account:routes-admin", action: AUDIT_ACTION.createAccount, target: "routes-ci", result: "ok" },
        ]);
      });

      test("revoke: the token stops working at once; again is idempotent; an unknown name is 404", async () => {
        const { json } = await t.call("POST", "/admin/service-accounts", { token: tok.admin, body: { name: "routes-gone", role: "viewer" } });
        const first = await t.call("DELETE", "/admin/service-accounts/routes-gone", { token: tok.admin });
        expect(first.status).toBe(200);
        expect(first.json.revokedAt).not.toBeNull();
        expect((await t.call("GET", "/admin/queue", { token: json.token })).status).toBe(401);
        const again = await t.call("DELETE", "/admin/service-accounts/routes-gone", { token: tok.admin });
        expect(again.json.revokedAt).toBe(first.json.revokedAt);
        expect((await t.call("DELETE", "/admin/service-accounts/nobody", { token: tok.admin })).status).toBe(404);
      });

      test("the list never shows a token or its hash", async () => {
        const list = await t.call("GET", "/admin/service-accounts", { token: tok.admin });
        expect(list.json.accounts.map((a: { name: string }) => a.name)).toContain("routes-ci");
        expect(list.text).not.toContain("tgwh_");
        expect(list.text).not.toMatch(/[0-9a-f]{64}/);
      });
    });

    describe("webhook", () => {
      test("set: Telegram gets our URL and secret; delete: dropped on request; both audited", async () => {
        const set = await t.call("POST", "/admin/webhook", { token: tok.operator, body: { maxConnections: 10 } });
        expect(set.status).toBe(200);
        expect(set.json).toMatchObject({ url: "https://bot.example.com/telegram/webhook", maxConnections: 10 });
        expect(t.api.callsOf("setWebhook").at(-1)?.payload).toMatchObject({ url: "https://bot.example.com/telegram/webhook", secret_token: t.cfg.webhookSecret, max_connections: 10 });
        const status = await t.call("GET", "/admin/webhook", { token: tok.viewer });
        expect(status.json).toMatchObject({ urlMatches: true, local: { secretConfigured: true } });
        expect(status.text).not.toContain(t.cfg.webhookSecret!);
        const del = await t.call("DELETE", "/admin/webhook?dropPendingUpdates=true", { token: tok.operator });
        expect(del.json).toEqual({ deleted: true, dropPendingUpdates: true });
        expect((await audit(2)).map((r) => r.action)).toEqual([AUDIT_ACTION.deleteWebhook, AUDIT_ACTION.setWebhook]);
      });

      test("Telegram refusing: 502 with its reason (no token in it)", async () => {
        t.api.failNext("setWebhook", { kind: "error", code: 400, description: "Bad Request: bad webhook: Failed to resolve host" });
        const res = await t.call("POST", "/admin/webhook", { token: tok.operator });
        expect(res.status).toBe(502);
        expect(res.json.error).toBe("Telegram refused setWebhook (400): Bad Request: bad webhook: Failed to resolve host");
        expect(res.text).not.toContain(t.cfg.botToken!);
      });
    });

    describe("audit log", () => {
      test("admins page through it newest first", async () => {
        const first = await t.call("GET", "/admin/audit?limit=2", { token: tok.admin });
        expect(first.json.entries).toHaveLength(2);
        const next = await t.call("GET", `/admin/audit?limit=2&cursor=${first.json.nextCursor}`, { token: tok.admin });
        expect(next.json.entries[0].id).toBeLessThan(first.json.entries[1].id);
        expect((await t.call("GET", "/admin/audit", { token: tok.operator })).status).toBe(403);
      });
    });

    describe("a server without TGWH_PUBLIC_URL", () => {
      test("POST /admin/webhook: 409 naming the setting, Telegram never called", async () => {
        const bare = await start({ TGWH_PUBLIC_URL: "" });
        try {
          const op = await bare.token("operator");
          const res = await bare.call("POST", "/admin/webhook", { token: op });
          expect(res.status).toBe(409);
          expect(res.json.error).toStartWith("server configuration: TGWH_PUBLIC_URL");
          expect(bare.api.callsOf("setWebhook")).toEqual([]);
        } finally {
          await bare.close();
        }
      });
    });
  });
}
