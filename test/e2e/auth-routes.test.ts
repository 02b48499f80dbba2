import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jwtVerify, SignJWT } from "jose";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { nowSeconds, signInitData, signWidgetFields, tamperHash, webAppUserJson } from "../support/telegram-auth";
import { startTgwh, TEST_BOT_TOKEN, waitFor, type TgwhProcess } from "../support/tgwh";

/** Bounds a hang; generous because other suites share the 2 cores. Nothing here is timed. */
const E2E_TEST_TIMEOUT = 30_000;

/** A fake session secret for this test only. */
const SESSION_SECRET = "test_session_secret_for_e2e_only_0123456789abcdef";
const OTHER_TOKEN = "987654321:OTHER_fake_token_for_tests_00000000";

let api: FakeBotApi;
let tg: TgwhProcess;

beforeAll(async () => {
  api = startFakeBotApi();
  tg = await startTgwh({
    env: { TGWH_TELEGRAM_API: api.url, TGWH_LOGIN_NOTIFY: "1", TGWH_SESSION_SECRET: SESSION_SECRET, TGWH_SESSION_TTL: "600" },
  });
}, E2E_TEST_TIMEOUT);
afterAll(async () => {
  await tg?.stop();
  api?.stop();
});

// Every test signs in from its own client address (through the trusted-proxy X-Forwarded-For),
// so the per-IP buckets of one test never limit another.
let ipCounter = 10;
const nextIp = () => `198.51.100.${ipCounter++}`;

function post(path: string, body: unknown, ip: string, raw = false): Promise<Response> {
  return fetch(`${tg.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": ip },
    body: raw ? (body as string) : JSON.stringify(body),
  });
}
const me = (token?: string) => fetch(`${tg.url}/auth/me`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

function query<T>(sql: string, ...params: (string | number)[]): T[] {
  const db = new Database(tg.dbPath, { readonly: true });
  try {
    return db.query(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}
const userRow = (id: number) =>
  query<Record<string, unknown>>("SELECT * FROM users WHERE telegram_id = ?", id)[0] ?? null;

interface TestUser {
  id: number;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
  is_premium?: boolean;
  photo_url?: string;
}
// Each call is a fresh initData, as each opening of the Mini App is (a new query_id): the same
// one twice is a replay, refused.
let queryCounter = 0;
const initDataFor = (user: TestUser, extra: Record<string, string> = {}, token = TEST_BOT_TOKEN) =>
  signInitData({ query_id: `AAHdF6IQAAAAAN0XohDh${String(++queryCounter).padStart(4, "0")}`, user: webAppUserJson(user), auth_date: String(nowSeconds()), ...extra }, token);

async function expectError(res: Response, status: number, pattern: RegExp) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { ok: boolean; error: string };
  expect(body.ok).toBe(false);
  expect(body.error).toMatch(pattern);
}

describe("POST /auth/telegram/webapp", () => {
  const ada: TestUser = { id: 5550001, first_name: "Ada", last_name: "Lovelace 🚀", username: "ada_l", language_code: "en", is_premium: true, photo_url: "https://t.me/i/userpic/320/ada.svg" };

  test("valid initData → 200 {token, expiresAt, user}; users row; /auth/me; login notification sent", async () => {
    const ip = nextIp();
    const before = Date.now();
    const res = await post("/auth/telegram/webapp", { initData: initDataFor(ada) }, ip);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; expiresAt: string; user: Record<string, unknown> };
    expect(body.user).toEqual({ id: ada.id, firstName: "Ada", lastName: "Lovelace 🚀", username: "ada_l", languageCode: "en", isPremium: true, photoUrl: ada.photo_url });
    const ttl = Date.parse(body.expiresAt) - before;
    expect(ttl).toBeGreaterThan(590_000);
    expect(ttl).toBeLessThanOrEqual(601_000);

    const row = userRow(ada.id)!;
    expect(row).toMatchObject({ first_name: "Ada", last_name: "Lovelace 🚀", username: "ada_l", language_code: "en", is_premium: 1, photo_url: ada.photo_url });
    expect(row.first_seen).toBe(row.last_seen);

    const who = await me(body.token);
    expect(who.status).toBe(200);
    expect(((await who.json()) as { user: { id: number; username: string } }).user).toMatchObject({ id: ada.id, username: "ada_l" });

    // The notification goes through the job queue and the worker to the (fake) Bot API.
    await waitFor(() => api.callsOf("sendMessage").some((c) => c.payload.chat_id === ada.id), 10_000, "the login notification", tg.logs);
    const sent = api.callsOf("sendMessage").filter((c) => c.payload.chat_id === ada.id);
    expect(sent).toHaveLength(1);
    expect(String(sent[0]!.payload.text)).toContain("You signed in through the Mini App");
    expect(String(sent[0]!.payload.text)).toContain(`from IP ${ip}`);
    const jobs = query<{ kind: string; order_key: string; dedupe_key: string }>("SELECT kind, order_key, dedupe_key FROM jobs WHERE order_key = ?", `send:chat:${ada.id}`);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.kind).toBe("notify.send");
    expect(jobs[0]!.dedupe_key).toContain(`login:${ada.id}:`);
  }, E2E_TEST_TIMEOUT);

  test("signing in again refreshes the row (first_seen kept) and notifies again", async () => {
    await Bun.sleep(5);
    const firstSeen = userRow(ada.id)!.first_seen as number;
    const res = await post("/auth/telegram/webapp", { initData: initDataFor({ ...ada, username: "ada_renamed", photo_url: undefined, is_premium: undefined }) }, nextIp());
    expect(res.status).toBe(200);
    const row = userRow(ada.id)!;
    expect(row).toMatchObject({ username: "ada_renamed", first_seen: firstSeen, is_premium: 0, photo_url: ada.photo_url });
    expect(row.last_seen as number).toBeGreaterThan(firstSeen);
    await waitFor(() => api.callsOf("sendMessage").filter((c) => c.payload.chat_id === ada.id).length === 2, 10_000, "the second login notification", tg.logs);
  }, E2E_TEST_TIMEOUT);

  test("the same initData twice → the second is refused (replay) and changes nothing, on this gateway and on another one", async () => {
    const zoe: TestUser = { id: 5550020, first_name: "Zoe" };
    const initData = initDataFor(zoe);
    const first = await post("/auth/telegram/webapp", { initData }, nextIp());
    expect(first.status).toBe(200);
    await waitFor(() => api.callsOf("sendMessage").some((c) => c.payload.chat_id === zoe.id), 10_000, "the login notification", tg.logs);
    const lastSeen = userRow(zoe.id)!.last_seen;
    await expectError(await post("/auth/telegram/webapp", { initData }, nextIp()), 401, /already used/);
    // A second gateway on the same database (a canary, a scale-out) refuses it too.
    const other = await startTgwh({ dir: tg.dir, dbPath: tg.dbPath, env: { TGWH_TELEGRAM_API: api.url, TGWH_SESSION_SECRET: SESSION_SECRET } });
    try {
      const res = await fetch(`${other.url}/auth/telegram/webapp`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ initData }) });
      await expectError(res, 401, /already used/);
    } finally {
      await other.stop();
    }
    expect(userRow(zoe.id)!.last_seen).toBe(lastSeen);
    expect(query("SELECT id FROM jobs WHERE order_key = ?", `send:chat:${zoe.id}`)).toHaveLength(1);
    // A fresh initData of the same user signs in as usual.
    expect((await post("/auth/telegram/webapp", { initData: initDataFor(zoe) }, nextIp())).status).toBe(200);
    const metrics = await (await fetch(`${tg.url}/metrics`)).text();
    expect(metrics).toMatch(/tgwh_auth_validations_total\{method="webapp",outcome="replayed"\} 1/);
  }, E2E_TEST_TIMEOUT);

  test("malformed requests → 400 with a message, nothing stored", async () => {
    const ip = nextIp();
    const ghost: TestUser = { id: 5550099, first_name: "Ghost" };
    await expectError(await post("/auth/telegram/webapp", {}, ip), 400, /initData/);
    await expectError(await post("/auth/telegram/webapp", { initData: 42 }, ip), 400, /initData/);
    await expectError(await post("/auth/telegram/webapp", "{not json", ip, true), 400, /JSON/);
    await expectError(await post("/auth/telegram/webapp", { initData: "" }, ip), 400, /empty/);
    await expectError(await post("/auth/telegram/webapp", { initData: "x".repeat(40_000) }, ip), 413, /exceeds 32768 bytes/);
    const noHash = initDataFor(ghost).replace(/&hash=[0-9a-f]+/, "");
    await expectError(await post("/auth/telegram/webapp", { initData: noHash }, ip), 400, /no hash/);
    expect(userRow(ghost.id)).toBeNull();
  }, E2E_TEST_TIMEOUT);

  test("tampered hash (replayed), altered user, other bot's token, stale or future auth_date → 401, nothing stored", async () => {
    const ip = nextIp();
    const eve: TestUser = { id: 5550002, first_name: "Eve" };
    const good = initDataFor(eve);
    await expectError(await post("/auth/telegram/webapp", { initData: tamperHash(good) }, ip), 401, /hash does not match/);
    await expectError(await post("/auth/telegram/webapp", { initData: good.replace("Eve", "Mallory") }, ip), 401, /hash does not match/);
    await expectError(await post("/auth/telegram/webapp", { initData: initDataFor(eve, {}, OTHER_TOKEN) }, ip), 401, /hash does not match/);
    const stale = initDataFor(eve, { auth_date: String(nowSeconds() - 3700) });
    await expectError(await post("/auth/telegram/webapp", { initData: stale }, ip), 401, /old, over the 3600 s limit/);
    const future = initDataFor(eve, { auth_date: String(nowSeconds() + 600) });
    await expectError(await post("/auth/telegram/webapp", { initData: future }, ip), 401, /future/);
    expect(userRow(eve.id)).toBeNull();
    // The untampered original still works: refusals changed nothing.
    expect((await post("/auth/telegram/webapp", { initData: good }, ip)).status).toBe(200);
  }, E2E_TEST_TIMEOUT);
});

describe("POST /auth/telegram/widget", () => {
  const grace = { id: 5550003, first_name: "Grace", last_name: "Hopper", username: "ghopper", photo_url: "https://t.me/i/userpic/320/g.jpg" };
  test("valid fields → 200 and the row; tampered → 401; no hash → 400", async () => {
    const ip = nextIp();
    const signed = signWidgetFields({ ...grace, auth_date: nowSeconds() }, TEST_BOT_TOKEN);
    await expectError(await post("/auth/telegram/widget", { ...signed, username: "eve" }, ip), 401, /hash does not match/);
    const { hash: _hash, ...unsigned } = signed;
    await expectError(await post("/auth/telegram/widget", unsigned, ip), 400, /no hash/);
    await expectError(await post("/auth/telegram/widget", { ...signed, nested: { a: 1 } }, ip), 400, /nested/);
    expect(userRow(grace.id)).toBeNull();
    const res = await post("/auth/telegram/widget", signed, ip);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; user: Record<string, unknown> };
    expect(body.user).toMatchObject({ id: grace.id, firstName: "Grace", username: "ghopper", languageCode: null, isPremium: false });
    expect(userRow(grace.id)).toMatchObject({ last_name: "Hopper", photo_url: grace.photo_url });
    expect((await me(body.token)).status).toBe(200);
    const stale = signWidgetFields({ ...grace, auth_date: nowSeconds() - 4000 }, TEST_BOT_TOKEN);
    await expectError(await post("/auth/telegram/widget", stale, ip), 401, /old/);
    // Past 2^53 the id would round to another user's: refused even though Telegram's hash holds.
    const huge = signWidgetFields({ ...grace, id: "9007199254740993", auth_date: nowSeconds() }, TEST_BOT_TOKEN);
    await expectError(await post("/auth/telegram/widget", huge, ip), 400, /numeric Telegram id/);
  }, E2E_TEST_TIMEOUT);
});

describe("GET /auth/me", () => {
  const key = new TextEncoder().encode(SESSION_SECRET);
  const jwt = (exp: number, signKey = key) =>
    new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("5550001").setIssuer("tgwh").setAudience("tgwh-session").setIssuedAt(exp - 600).setExpirationTime(exp).sign(signKey);

  test("no token, garbage, expired, forged → 401 with WWW-Authenticate", async () => {
    const none = await me();
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    await expectError(none, 401, /no session token/);
    await expectError(await me("not.a.jwt"), 401, /not valid/);
    await expectError(await me(await jwt(nowSeconds() - 10)), 401, /expired/);
    await expectError(await me(await jwt(nowSeconds() + 600, new TextEncoder().encode(`${SESSION_SECRET}-other`))), 401, /not valid/);
    // A well-formed token signed with the service's secret is accepted (the user exists).
    expect((await me(await jwt(nowSeconds() + 600))).status).toBe(200);
  }, E2E_TEST_TIMEOUT);

  test("a signed token with a lenient sub or an absurd exp → 401, never 500 or another user", async () => {
    const signed = (sub: string, exp: number) =>
      new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(sub).setIssuer("tgwh").setAudience("tgwh-session").setExpirationTime(exp).sign(key);
    // "0x54AFB1" and " 5550001 " are 5550001 to Number(): the user that exists.
    for (const sub of ["0x54AFB1", " 5550001 ", "5550001.0", "05550001"]) await expectError(await me(await signed(sub, nowSeconds() + 600)), 401, /subject/);
    await expectError(await me(await signed("5550001", 1e20)), 401, /expiry/);
  }, E2E_TEST_TIMEOUT);
});

describe("rate limits", () => {
  test("per IP: the 31st attempt in a minute → 429 with Retry-After, counted in metrics", async () => {
    const ip = nextIp();
    const bad = { initData: tamperHash(initDataFor({ id: 5550004, first_name: "Bob" })) };
    for (let i = 0; i < 30; i++) expect((await post("/auth/telegram/webapp", bad, ip)).status).toBe(401);
    const limited = await post("/auth/telegram/webapp", bad, ip);
    expect(limited.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    await expectError(limited, 429, /too many sign-in attempts from this address/);
    // The limit applies before the body is read: malformed requests are refused the same way.
    await expectError(await post("/auth/telegram/webapp", "{not json", ip, true), 429, /too many/);
    await expectError(await post("/auth/telegram/widget", {}, ip), 429, /too many/);
    // Another client is not affected.
    expect((await post("/auth/telegram/webapp", bad, nextIp())).status).toBe(401);
    const metrics = await (await fetch(`${tg.url}/metrics`)).text();
    expect(metrics).toMatch(/tgwh_auth_rate_limited_total\{scope="ip"\} [1-9]/);
    expect(metrics).toMatch(/tgwh_auth_validations_total\{method="webapp",outcome="bad_hash"\} [1-9]/);
    expect(metrics).toMatch(/tgwh_auth_validations_total\{method="webapp",outcome="ok"\} [1-9]/);
  }, E2E_TEST_TIMEOUT);

  test("per Telegram user: the 11th sign-in in a minute → 429 even from new addresses", async () => {
    const carol: TestUser = { id: 5550005, first_name: "Carol" };
    for (let i = 0; i < 10; i++) expect((await post("/auth/telegram/webapp", { initData: initDataFor(carol) }, nextIp())).status).toBe(200);
    const limited = await post("/auth/telegram/webapp", { initData: initDataFor(carol) }, nextIp());
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await expectError(limited, 429, /this Telegram account/);
    expect(await (await fetch(`${tg.url}/metrics`)).text()).toMatch(/tgwh_auth_rate_limited_total\{scope="user"\} [1-9]/);
  }, E2E_TEST_TIMEOUT);
});

describe("generated session secret", () => {
  test("without TGWH_SESSION_SECRET one is generated, kept in the database, and survives a restart", async () => {
    const env = { TGWH_TELEGRAM_API: api.url, TGWH_SESSION_SECRET: undefined };
    const first = await startTgwh({ env });
    let token = "";
    try {
      const res = await post0(first.url, { initData: initDataFor({ id: 5550006, first_name: "Dan" }) });
      expect(res.status).toBe(200);
      token = ((await res.json()) as { token: string }).token;
    } finally {
      await first.stop();
    }
    const db = new Database(first.dbPath, { readonly: true });
    const stored = db.query("SELECT value FROM settings WHERE key = 'auth.session_secret'").get() as { value: string } | null;
    db.close();
    expect(stored?.value.length).toBeGreaterThanOrEqual(32);
    expect(first.logs()).not.toContain(stored!.value);
    const second = await startTgwh({ env, dir: first.dir, dbPath: first.dbPath });
    try {
      expect((await fetch(`${second.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      await second.stop();
    }
  }, E2E_TEST_TIMEOUT);
});

describe("configured session secret", () => {
  test("the systemd credential session_secret is used and deletes the generated key; removing it later does not revive old tokens", async () => {
    const generated = { TGWH_TELEGRAM_API: api.url, TGWH_SESSION_SECRET: undefined };
    const first = await startTgwh({ env: generated });
    const signIn = async (url: string, id: number) => {
      const res = await post0(url, { initData: initDataFor({ id, first_name: "Kim" }) });
      expect(res.status).toBe(200);
      return ((await res.json()) as { token: string }).token;
    };
    const meAt = (url: string, token: string) => fetch(`${url}/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    const storedKey = () => {
      const db = new Database(first.dbPath, { readonly: true });
      try {
        return (db.query("SELECT value FROM settings WHERE key = 'auth.session_secret'").get() as { value: string } | null)?.value ?? null;
      } finally {
        db.close();
      }
    };
    let old = "";
    try {
      old = await signIn(first.url, 5550010);
    } finally {
      await first.stop();
    }
    expect(storedKey()).not.toBeNull();

    // As the installed units run it: LoadCredential=session_secret puts the file install.sh
    // generated into $CREDENTIALS_DIRECTORY.
    for (const unit of ["tgwh.service", "tgwh@.service"]) {
      expect(readFileSync(join(import.meta.dir, "../../deploy/systemd", unit), "utf8")).toContain("\nLoadCredential=session_secret:/etc/tgwh/credentials/session_secret\n");
    }
    const creds = join(first.dir, "credentials");
    mkdirSync(creds, { mode: 0o700 });
    writeFileSync(join(creds, "session_secret"), `${SESSION_SECRET}\n`, { mode: 0o600 });
    const configured = await startTgwh({ env: { ...generated, CREDENTIALS_DIRECTORY: creds }, dir: first.dir, dbPath: first.dbPath });
    try {
      expect(storedKey()).toBeNull();
      expect((await meAt(configured.url, old)).status).toBe(401);
      const fresh = await signIn(configured.url, 5550011);
      expect((await meAt(configured.url, fresh)).status).toBe(200);
      // Signed with the credential's value, nothing else.
      const { payload } = await jwtVerify(fresh, new TextEncoder().encode(SESSION_SECRET));
      expect(payload.sub).toBe("5550011");
      await waitFor(() => configured.logs().includes("deleted the generated session key"), 5_000, "the deletion's log line");
    } finally {
      await configured.stop();
    }

    // The credential removed again: a new key is generated; the first one is gone for good.
    const after = await startTgwh({ env: generated, dir: first.dir, dbPath: first.dbPath });
    try {
      expect((await meAt(after.url, old)).status).toBe(401);
      expect(storedKey()).not.toBeNull();
    } finally {
      await after.stop();
    }
  }, E2E_TEST_TIMEOUT);
});

function post0(url: string, body: unknown) {
  return fetch(`${url}/auth/telegram/webapp`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}
