/**
 * The attacks of issue 14, fuzzed against the compiled binary (fast-check), so each stays closed:
 * request targets two parsers could read differently, nesting and size on every body route,
 * admin calls without the right token, lenient session claims, HEAD, terminal escapes in
 * `tgwh initdata verify`, and initData replays. Oracles are written from the documented rules,
 * not from tgwh's code. FUZZ_RUNS sets the case count (make test: 150; make soak: more).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { SignJWT } from "jose";
import { createToken } from "../support/admin";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { rawRequest } from "../support/raw-http";
import { nowSeconds, signInitData, webAppUserJson } from "../support/telegram-auth";
import { removeDir, runTgwh, startTgwh, TEST_BOT_TOKEN, TEST_SECRET, type TgwhProcess } from "../support/tgwh";

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
/** Cases that spawn the binary or write users: fewer. */
const SLOW_RUNS = Math.max(10, Math.floor(RUNS / 5));
const TIMEOUT_MS = 60_000 + RUNS * 200;
/** A fake session secret for this test only. */
const SESSION_SECRET = "fuzz_session_secret_0123456789abcdefghijkl";

let api: FakeBotApi;
let tg: TgwhProcess;
const tok = {} as Record<"viewer" | "operator" | "admin" | "service", string>;

beforeAll(async () => {
  api = startFakeBotApi();
  tg = await startTgwh({
    env: { TGWH_TELEGRAM_API: api.url, TGWH_LOG_LEVEL: "info", TGWH_SESSION_SECRET: SESSION_SECRET, TGWH_AUTH_RATE_PER_IP: "100000", TGWH_AUTH_RATE_PER_USER: "100000" },
  });
  for (const role of ["viewer", "operator", "admin", "service"] as const) tok[role] = await createToken(tg.dbPath, `fuzz-${role}`, role);
}, 60_000);
afterAll(async () => {
  await tg?.stop();
  api?.stop();
  if (tg) removeDir(tg.dir);
});

const GUARD = "request path holds";

/**
 * Whether tgwh must refuse a raw request target before routing (docs/security.md): a backslash
 * or %5C, a '#', a '.'/'..' segment also when percent-encoded (a %2F inside a segment splits it),
 * a '.', '/' or '\' encoded twice, an empty segment, more than 8 segments.
 */
export function mustRefuseTarget(target: string): boolean {
  const path = target.split("?")[0]!;
  if (path === "/") return false;
  if (path.includes("\\") || path.includes("#") || /%5c|%23/i.test(path) || /%25(2e|2f|5c)/i.test(path)) return true;
  // One trailing slash is plain (Elysia serves /app/ as /app).
  const segments = path.slice(1).replace(/\/$/, "").split("/");
  if (segments.length > 8 || segments.some((s) => s === "")) return true;
  const decode = (s: string) => s.replace(/%([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return segments.some((s) => decode(s).split("/").some((p) => p === "." || p === ".."));
}

const SEGMENTS = ["app", "auth", "admin", "queue", "metrics", "readyz", "telegram", "webhook", "internal", "notifications", "jobs", "1", "docs",
  "..", ".", "%2e%2e", "%2E.", ".%2e", "..\\", "\\", "%5C", "%5c", "%255C", "%252e%252e", "..%2f", "x%2Fy", "", "a#b", "%23", "...", "%2e%2e%2f"];
const targets = fc
  .tuple(fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 11 }), fc.boolean(), fc.constantFrom("", "?x=1", "?next=..\\x"))
  .map(([segs, trailing, query]) => `/${segs.join("/")}${trailing ? "/" : ""}${query}`);

const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

describe("issue 14's attacks, fuzzed", () => {
  test("raw request targets: an ambiguous one is refused before routing, a plain one never is; never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(targets, fc.constantFrom("GET", "POST", "HEAD"), fc.constantFrom("viewer", "service", "none"), async (target, method, who) => {
        const headers: Record<string, string> = { "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TEST_SECRET, ...(who === "none" ? {} : bearer(tok[who])) };
        const res = await rawRequest(tg.port, { method, target, headers, body: method === "POST" ? '{"update_id":1}' : undefined });
        expect(res.status).toBeLessThan(500);
        if (method === "HEAD") return; // no body to tell the guard's 400 from a route's
        const refused = res.status === 400 && res.body.includes(GUARD);
        expect({ target, method, status: res.status, refused }).toEqual({ target, method, status: res.status, refused: mustRefuseTarget(target) });
        // Routing never depends on the Host header (a one-letter host once shifted Elysia's path).
        const shortHost = await rawRequest(tg.port, { method, target, headers: { ...headers, Host: "a" }, body: method === "POST" ? '{"update_id":1}' : undefined });
        expect({ target, method, shortHost: shortHost.status }).toEqual({ target, method, shortHost: res.status });
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT_MS);

  test("nested bodies on every body route: 400 (or 401/403 before the body for a wrong token), never a 5xx", async () => {
    const routes: { path: string; auth: Record<string, string>; wrap: (v: string) => string; limit: number }[] = [
      { path: "/telegram/webhook", auth: { "X-Telegram-Bot-Api-Secret-Token": TEST_SECRET }, wrap: (v: string) => `{"update_id":9,"message":${v}}`, limit: 64 },
      { path: "/auth/telegram/webapp", auth: {}, wrap: (v: string) => `{"initData":${v}}`, limit: 2 },
      { path: "/auth/telegram/widget", auth: {}, wrap: (v: string) => `{"id":${v}}`, limit: 2 },
      { path: "/admin/notifications", auth: bearer(tok.operator), wrap: (v: string) => `{"chatId":1,"text":${v}}`, limit: 4 },
      { path: "/admin/webhook", auth: bearer(tok.operator), wrap: (v: string) => `{"allowedUpdates":${v}}`, limit: 4 },
      { path: "/admin/jobs/retry-dead", auth: bearer(tok.operator), wrap: (v: string) => `{"limit":${v}}`, limit: 4 },
      { path: "/admin/service-accounts", auth: bearer(tok.admin), wrap: (v: string) => `{"role":${v}}`, limit: 4 },
      { path: "/internal/notifications", auth: bearer(tok.service), wrap: (v: string) => `{"text":${v}}`, limit: 4 },
    ];
    const nested = fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom("[", '{"a":')).map(([d, open]) => ({ d, value: `${open.repeat(d)}1${(open === "[" ? "]" : "}").repeat(d)}` }));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), nested, fc.constantFrom("right", "viewer", "none"), async (r, { d, value }, who) => {
        const body = r.wrap(value);
        const depth = 1 + d; // every wrapper is one object
        const admin = r.path.startsWith("/admin") || r.path.startsWith("/internal");
        const headers: Record<string, string> = { "content-type": "application/json", ...(who === "right" || !admin ? r.auth : who === "viewer" ? bearer(tok.viewer) : {}) };
        const res = await fetch(`${tg.url}${r.path}`, { method: "POST", headers, body });
        const text = await res.text();
        let want: number[];
        if (admin && who === "none") want = [401];
        else if (admin && who === "viewer") want = [403];
        else if (body.length > (r.path.startsWith("/auth") ? 32 * 1024 : r.path === "/telegram/webhook" ? 1024 * 1024 : 64 * 1024)) want = [413];
        else if (depth > r.limit) want = [400];
        else want = [200, 202, 400, 401, 409, 502]; // within the limits: the route's own answer
        expect({ path: r.path, who, depth, status: res.status, ok: want.includes(res.status), text: text.slice(0, 120) }).toMatchObject({ ok: true });
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT_MS);

  test("session tokens signed with the real key, for a user that exists, but with a lenient sub or an odd exp → 401, never 500", async () => {
    const key = new TextEncoder().encode(SESSION_SECRET);
    const user = 770_000_001;
    const initData = signInitData({ user: webAppUserJson({ id: user, first_name: "Sub" }), auth_date: String(nowSeconds()), query_id: "Qsub" }, TEST_BOT_TOKEN);
    const signedIn = await fetch(`${tg.url}/auth/telegram/webapp`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ initData }) });
    expect(signedIn.status).toBe(200);
    const sign = (sub: string, exp: number) => new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(sub).setIssuer("tgwh").setAudience("tgwh-session").setExpirationTime(exp).sign(key);
    const me = async (token: string) => (await fetch(`${tg.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status;
    expect(await me(await sign(String(user), nowSeconds() + 600))).toBe(200); // the control: a strict token works
    // Spellings Number() reads as the user's id, other numbers that round to it, and junk.
    const lenient = [`0x${user.toString(16)}`, ` ${user} `, `${user}.0`, `0${user}`, `+${user}`, `${user}e0`, `${user / 10}e1`, `-${user}`, `${user} `];
    const subs = fc.oneof(fc.constantFrom(...lenient), fc.string({ maxLength: 20 }).filter((x) => x !== String(user)), fc.bigInt({ min: 2n ** 53n, max: 2n ** 70n }).map(String));
    // Out of range: past 2^53 seconds, fractional, or later than the longest session lifetime.
    const badExp = fc.oneof(fc.constant(1e20), fc.integer({ min: 10, max: 1e6 }).map((x) => nowSeconds() + x + 0.5), fc.integer({ min: nowSeconds() + 91 * 86400, max: 2 ** 40 }));
    await fc.assert(
      fc.asyncProperty(fc.oneof(subs.map((sub) => ({ sub, exp: nowSeconds() + 600 })), badExp.map((exp) => ({ sub: String(user), exp }))), async ({ sub, exp }) => {
        expect({ sub, exp, status: await me(await sign(sub, exp)) }).toEqual({ sub, exp, status: 401 });
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT_MS);

  test("HEAD on every admin GET route, with any token: answered as GET without a body, never a 5xx", async () => {
    const paths = ["/admin/queue", "/admin/jobs", "/admin/jobs/1", "/admin/jobs/retry-dead", "/admin/updates/1", "/admin/webhook", "/admin/service-accounts", "/admin/audit", "/admin/docs", "/admin/openapi.json"];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.constantFrom("viewer", "operator", "admin", "service", "none", "garbage"), async (path, who) => {
        const headers: Record<string, string> = who === "none" ? {} : { authorization: who === "garbage" ? "Bearer tgwh_nope" : `Bearer ${tok[who]}` };
        const [head, get] = [await fetch(`${tg.url}${path}`, { method: "HEAD", headers }), await fetch(`${tg.url}${path}`, { headers })];
        await get.text();
        expect({ path, who, head: head.status, body: await head.text() }).toEqual({ path, who, head: get.status, body: "" });
        expect(head.status).toBeLessThan(500);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT_MS);

  test("tgwh initdata verify prints no control character from its input, whatever the field names and values", async () => {
    const nasty = fc.string({ unit: fc.constantFrom("a", "Z", " ", "\n", "\r", "\u001b", "[", "2J", "\u0007", "\u009b", "\u202e", "\u2028", "\u0000", "valid", "é", "🚀"), maxLength: 30 });
    await fc.assert(
      fc.asyncProperty(nasty, nasty, nasty, fc.boolean(), async (name, value, firstName, json) => {
        const fields: Record<string, string> = { user: webAppUserJson({ id: 5, first_name: firstName || "x" }), auth_date: String(nowSeconds()) };
        if (name) fields[name] = value;
        const res = await runTgwh(["initdata", "verify", ...(json ? ["--json"] : [])], { TGWH_BOT_TOKEN: TEST_BOT_TOKEN }, signInitData(fields, TEST_BOT_TOKEN));
        expect(res.code).toBeLessThan(2);
        expect({ name, value, firstName, out: res.stdout }).not.toMatchObject({ out: expect.stringMatching(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/) });
        if (!json) expect(res.stdout.split("\n").filter((l) => /^(in)?valid/.test(l))).toHaveLength(1);
      }),
      { numRuns: SLOW_RUNS },
    );
  }, TIMEOUT_MS);

  test("any valid initData signs in once; the same string again is refused", async () => {
    let id = 880_000_000;
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 20 }), fc.constantFrom("+", "%20") as fc.Arbitrary<"+" | "%20">, async (firstName, spaces) => {
        const initData = signInitData({ user: webAppUserJson({ id: ++id, first_name: firstName }), auth_date: String(nowSeconds()), query_id: `Q${id}` }, TEST_BOT_TOKEN, { spaces });
        const signIn = () => fetch(`${tg.url}/auth/telegram/webapp`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ initData }) });
        expect((await signIn()).status).toBe(200);
        const again = await signIn();
        expect({ status: again.status, body: await again.text() }).toMatchObject({ status: 401, body: expect.stringContaining("already used") });
      }),
      { numRuns: SLOW_RUNS },
    );
  }, TIMEOUT_MS);

  test("the process stayed up", async () => {
    expect(tg.proc.exitCode).toBeNull();
    expect((await fetch(`${tg.url}/healthz`)).status).toBe(200);
  });
});
