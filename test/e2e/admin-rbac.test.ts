import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ROUTE_ROLES, roleAllows, type RequiredRole } from "../../src/admin/rbac";
import type { Role } from "../../src/store/states";
import { createAdminClient, createToken } from "../support/admin";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { removeDir, runTgwh, startTgwh, TEST_BOT_TOKEN, TEST_SECRET, type TgwhProcess } from "../support/tgwh";

// Timeouts are ceilings, not performance assertions: walks ~110 requests; generous on a loaded CI box.
setDefaultTimeout(60_000);

/**
 * The RBAC matrix: every route of src/admin/rbac.ts × every role (+ no token, a revoked token)
 * against the compiled binary. A route the binary serves under /admin or /internal without a
 * row in the table, or a row without a sample request here, fails.
 */

const ROLES: Role[] = ["viewer", "operator", "admin", "service"];

/** One harmless request per route: unknown ids (404 when allowed), valid bodies. */
const SAMPLES: Record<string, { path: string; body?: unknown }> = {
  "GET /admin/queue": { path: "/admin/queue" },
  "GET /admin/jobs": { path: "/admin/jobs?state=dead&limit=5" },
  "GET /admin/jobs/:id": { path: "/admin/jobs/999999" },
  "POST /admin/jobs/:id/retry": { path: "/admin/jobs/999999/retry" },
  "POST /admin/jobs/retry-dead": { path: "/admin/jobs/retry-dead", body: { limit: 1 } },
  "GET /admin/updates/:updateId": { path: "/admin/updates/999999" },
  "GET /admin/webhook": { path: "/admin/webhook" },
  "POST /admin/webhook": { path: "/admin/webhook", body: { maxConnections: 10 } },
  "DELETE /admin/webhook": { path: "/admin/webhook" },
  "POST /admin/notifications": { path: "/admin/notifications", body: { chatId: 42, text: "matrix", dedupeKey: "matrix" } },
  "GET /admin/service-accounts": { path: "/admin/service-accounts" },
  "POST /admin/service-accounts": { path: "/admin/service-accounts", body: { name: "NAME", role: "viewer" } },
  "DELETE /admin/service-accounts/:name": { path: "/admin/service-accounts/no-such-account" },
  "GET /admin/audit": { path: "/admin/audit" },
  "POST /internal/notifications": { path: "/internal/notifications", body: { chatId: 42, text: "matrix", dedupeKey: "matrix-internal" } },
  "GET /admin/docs": { path: "/admin/docs" },
  "GET /admin/docs/:asset": { path: "/admin/docs/init.js" },
  "GET /admin/openapi.json": { path: "/admin/openapi.json" },
};

let api: FakeBotApi;
let tgwh: TgwhProcess;
const tokens = {} as Record<Role | "revoked", string>;
const seen: string[] = [];

beforeAll(async () => {
  api = startFakeBotApi();
  tgwh = await startTgwh({ env: { TGWH_TELEGRAM_API: api.url, TGWH_PUBLIC_URL: "https://bot.example.test" } });
  for (const role of ROLES) tokens[role] = await createToken(tgwh.dbPath, `matrix-${role}`, role);
  tokens.revoked = await createToken(tgwh.dbPath, "matrix-revoked", "admin");
  const rv = await runTgwh(["token", "revoke", "matrix-revoked"], { TGWH_DB: tgwh.dbPath });
  expect(rv.code).toBe(0);
}, 30_000);

afterAll(async () => {
  await tgwh?.stop();
  api?.stop();
  if (tgwh) removeDir(tgwh.dir);
});

describe("RBAC matrix", () => {
  test("every /admin and /internal route the binary documents has a declared role and a sample", async () => {
    const spec = (await (await fetch(`${tgwh.url}/admin/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const served: string[] = [];
    for (const [path, methods] of Object.entries(spec.paths)) {
      if (!/^\/(admin|internal)(\/|$)/.test(path)) continue;
      for (const m of Object.keys(methods)) served.push(`${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`);
    }
    expect(served.length).toBeGreaterThan(10);
    for (const key of served) expect({ key, declared: key in ROUTE_ROLES }).toEqual({ key, declared: true });
    // And the other way: every row is a real route (documented, or one of the hidden docs assets).
    for (const key of Object.keys(ROUTE_ROLES)) {
      if (ROUTE_ROLES[key] !== "public") expect({ key, served: served.includes(key) }).toEqual({ key, served: true });
      expect({ key, sample: key in SAMPLES }).toEqual({ key, sample: true });
    }
  });

  const callers: (Role | "none" | "revoked")[] = ["none", "revoked", ...ROLES];
  for (const [key, required] of Object.entries(ROUTE_ROLES) as [string, RequiredRole][]) {
    test(`${key} (${required})`, async () => {
      const client = createAdminClient(tgwh.url, seen);
      const [method] = key.split(" ") as [string];
      const sample = SAMPLES[key];
      if (!sample) throw new Error(`no sample request for ${key}: add one to SAMPLES`);
      const expected: Record<string, string> = {};
      const got: Record<string, string> = {};
      for (const who of callers) {
        const token = who === "none" ? null : tokens[who];
        let body = sample.body;
        if (key === "POST /admin/service-accounts") body = { name: `made-by-${who}`, role: "viewer" };
        const res = await client.call(method, sample.path, token, body);
        const allowed = who === "none" || who === "revoked" ? required === "public" : roleAllows(required, who);
        expected[who] = allowed ? "allowed" : who === "none" || who === "revoked" ? "401" : "403";
        got[who] = res.status === 401 || res.status === 403 ? String(res.status) : res.status < 500 ? "allowed" : `error ${res.status}: ${res.text}`;
        if (res.status === 401) expect(res.headers.get("www-authenticate") ?? "").toStartWith("Bearer");
        // HEAD is GET without the body: the same role, the same status, never a 500.
        if (method === "GET") {
          const head = await client.call("HEAD", sample.path, token);
          got[`HEAD as ${who}`] = head.status === res.status && head.text === "" ? "as GET" : `HEAD ${head.status} ${head.text} vs GET ${res.status}`;
          expected[`HEAD as ${who}`] = "as GET";
        }
      }
      expect(got).toEqual(expected);
    });
  }

  test("refused mutating calls are in the audit log; no response carried a token, hash or secret", async () => {
    const client = createAdminClient(tgwh.url, seen);
    const res = await client.call("GET", "/admin/audit?limit=500", tokens.admin);
    expect(res.status).toBe(200);
    const entries = res.json.entries as { actor: string; action: string; result: string; target: string | null }[];
    expect(entries.some((e) => e.actor === "account:matrix-viewer" && e.result === "denied" && e.target === "POST /admin/jobs/:id/retry")).toBe(true);
    expect(entries.some((e) => e.actor === "account:matrix-operator" && e.action === "webhook.set" && e.result === "ok")).toBe(true);
    const all = seen.join("\n");
    for (const secret of [TEST_BOT_TOKEN, TEST_SECRET, ...Object.values(tokens)]) expect(all.includes(secret)).toBe(false);
    const hashes = Object.values(tokens).map((t) => new Bun.CryptoHasher("sha256").update(t).digest("hex"));
    for (const h of hashes) expect(all.includes(h)).toBe(false);
    expect(all).not.toMatch(/token_?hash/i);
  });
});
