/**
 * Property-based bad input (fast-check) against the compiled binary's webhook and auth routes:
 * random bytes, wrong content types, truncated and deeply nested JSON, huge numbers, __proto__ and
 * duplicate keys, invalid UTF-8, 1 MiB ± 1 bodies, slow bodies, headers without bodies.
 * Every answer is a 4xx, or 200 for a valid update; only the valid updates are stored; the process
 * stays up and its memory stays flat. FUZZ_RUNS sets the case count (make test: 150; make soak: more).
 * The attacks of issue 14 (ambiguous paths, nesting on every body route, lenient session claims,
 * HEAD, terminal escapes, replays) are fuzzed in attacks.fuzz.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { removeDir, startTgwh, TEST_SECRET, type TgwhProcess } from "../support/tgwh";

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
/** Per-test budget: grows with the case count (1 MiB bodies take a few ms each). */
const TIMEOUT_MS = 60_000 + RUNS * 200;
const MIB = 1024 * 1024;

let api: FakeBotApi;
let tg: TgwhProcess;
/** update_id → how many times it was answered 200. */
const accepted = new Map<number, number>();

beforeAll(async () => {
  api = startFakeBotApi();
  // High auth rate limits: the fuzz wants to reach the validators, not the limiter.
  tg = await startTgwh({ env: { TGWH_TELEGRAM_API: api.url, TGWH_LOG_LEVEL: "info", TGWH_AUTH_RATE_PER_IP: "100000", TGWH_AUTH_RATE_PER_USER: "100000" } });
});
afterAll(async () => {
  await tg?.stop();
  api?.stop();
  if (tg) removeDir(tg.dir);
});

const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${tg.pid}/status`, "utf8"))![1]) / 1024;
const enc = new TextEncoder();

/** What the webhook must answer, decided independently of tgwh's code (docs/architecture.md, "What the webhook answers"). */
export function expectedWebhookStatus(contentType: string | null, body: Uint8Array): { status: number; updateId?: number } {
  if ((contentType ?? "").split(";")[0]!.trim().toLowerCase() !== "application/json") return { status: 415 };
  if (body.byteLength > MIB) return { status: 413 };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    return { status: 400 };
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { status: 400 };
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return { status: 400 };
  // No real update nests deeper than about 11 levels; tgwh allows 64 (src/telegram/updates.ts).
  if (nestingDepth(v) > 64) return { status: 400 };
  const id = (v as { update_id?: unknown }).update_id;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) return { status: 400 };
  return { status: 200, updateId: id };
}

/** Nesting depth of a parsed value (iterative: fuzzed values nest 200,000 deep). An oracle apart from src/json-body.ts. */
export function nestingDepth(root: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    max = Math.max(max, d + 1);
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/**
 * The statuses a sign-in route may answer (docs/auth.md): 415 not JSON, 413 over 32 KiB, 400 not
 * UTF-8 / not JSON / empty / nested deeper than a flat object needs; past those only the payload's
 * validity decides, 400 (malformed) or 401 (bad hash, stale).
 */
export function expectedAuthStatuses(contentType: string | null, body: Uint8Array): number[] {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json" && !(type === "" && body.byteLength === 0)) return [415];
  if (body.byteLength > 32 * 1024) return [413];
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body));
  } catch {
    return [400];
  }
  // Deep values are refused before they are parsed; JSON.parse itself copes with these sizes.
  if (nestingDepth(v) > 2) return [400];
  return [400, 401];
}

const validUpdate = (id: number) => ({ update_id: id, message: { message_id: 1, date: 1, chat: { id: 77, type: "private" }, text: "hi" } });
const updateIds = fc.integer({ min: 1, max: 2_000_000 });

/** Bodies worth sending, each as bytes. */
const bodies: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc.string({ maxLength: 300 }).map((s) => enc.encode(s)),
  fc.json({ maxDepth: 4 }).map((s) => enc.encode(s)),
  updateIds.map((id) => enc.encode(JSON.stringify(validUpdate(id)))),
  // truncated
  fc.tuple(updateIds, fc.nat()).map(([id, cut]) => {
    const s = JSON.stringify(validUpdate(id));
    return enc.encode(s.slice(0, cut % s.length));
  }),
  // deeply nested beside a valid update_id, and alone
  fc.tuple(updateIds, fc.integer({ min: 1, max: 200_000 }), fc.boolean()).map(([id, depth, withId]) =>
    enc.encode(`{${withId ? `"update_id":${id},` : ""}"x":${"[".repeat(depth)}${"]".repeat(depth)}}`),
  ),
  // huge and odd numbers
  fc.constantFrom("1e400", "-1", "1.5", "9007199254740993", "9007199254740991", "-0", '"12"', "0x10", "null", "true", "[]", "{}", "1".repeat(400)).map((n) =>
    enc.encode(`{"update_id":${n},"message":{"text":"x"}}`),
  ),
  // __proto__ and constructor keys, duplicate keys
  updateIds.map((id) => enc.encode(`{"__proto__":{"update_id":${id}},"constructor":{"prototype":{"polluted":1}}}`)),
  updateIds.map((id) => enc.encode(`{"update_id":${id},"__proto__":{"isAdmin":true},"message":{"__proto__":null}}`)),
  fc.tuple(updateIds, updateIds).map(([a, b]) => enc.encode(`{"update_id":${a},"update_id":${b}}`)),
  fc.tuple(updateIds, updateIds).map(([a, b]) => enc.encode(`{"update_id":${a},"update_id":"x${b}"}`)),
  // invalid UTF-8 inside an otherwise valid update
  fc.tuple(updateIds, fc.constantFrom([0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf])).map(([id, bad]) => {
    const [head, tail] = [enc.encode(`{"update_id":${id},"message":{"text":"`), enc.encode(`"}}`)];
    return new Uint8Array([...head, ...bad, ...tail]);
  }),
  // 1 MiB - 1, 1 MiB, 1 MiB + 1 (valid JSON padded to size)
  fc.tuple(updateIds, fc.constantFrom(-1, 0, 1)).map(([id, delta]) => {
    const head = `{"update_id":${id},"pad":"`;
    const size = MIB + delta;
    return enc.encode(head + "a".repeat(size - head.length - 2) + '"}');
  }),
);

const contentTypes = fc.constantFrom(
  "application/json", "application/json; charset=utf-8", "Application/JSON", null, "text/plain", "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x", "application/jsonx", "application/json-patch+json", "", "*/*",
);

async function post(path: string, body: Uint8Array | string, contentType: string | null, headers: Record<string, string> = {}) {
  const h: Record<string, string> = { ...headers };
  if (contentType !== null) h["content-type"] = contentType;
  const res = await fetch(`${tg.url}${path}`, { method: "POST", headers: h, body: body as BodyInit });
  const text = await res.text();
  return { status: res.status, text };
}

describe("fuzzed bad input against the running binary", () => {
  let rssBefore = 0;

  test("webhook: 4xx for everything Telegram would never send, 200 only for valid updates", async () => {
    // Warm up before measuring memory (JIT, caches, allocator arenas).
    for (let i = 0; i < 30; i++) await post("/telegram/webhook", JSON.stringify(validUpdate(3_000_000 + i)), "application/json", { "x-telegram-bot-api-secret-token": TEST_SECRET });
    for (let i = 0; i < 30; i++) accepted.set(3_000_000 + i, 1);
    rssBefore = rssMb();
    await fc.assert(
      fc.asyncProperty(contentTypes, bodies, fc.boolean(), async (ct, body, withSecret) => {
        const headers: Record<string, string> = withSecret ? { "x-telegram-bot-api-secret-token": TEST_SECRET } : {};
        const res = await post("/telegram/webhook", body, ct, headers);
        const want = withSecret ? expectedWebhookStatus(ct, body) : { status: 401 };
        expect({ status: res.status, body: res.text.slice(0, 200) }).toMatchObject({ status: want.status });
        if (res.status === 200) accepted.set(want.updateId!, (accepted.get(want.updateId!) ?? 0) + 1);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT_MS);

  test("auth routes: random bodies, types and tokens get a 4xx, never a 5xx or a session", async () => {
    const authBodies = fc.oneof(
      bodies,
      fc.record({ initData: fc.string({ maxLength: 500 }) }).map((o) => enc.encode(JSON.stringify(o))),
      fc.string({ maxLength: 200 }).map((s) => enc.encode(JSON.stringify({ initData: `user=%7B%22id%22%3A1%7D&auth_date=1&hash=${s}` }))),
      fc.dictionary(fc.constantFrom("id", "first_name", "auth_date", "hash", "__proto__", "username", "photo_url"), fc.oneof(fc.string({ maxLength: 50 }), fc.double(), fc.integer())).map((o) =>
        enc.encode(JSON.stringify(o)),
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("/auth/telegram/webapp", "/auth/telegram/widget"), contentTypes, authBodies, async (path, ct, body) => {
        const res = await post(path, body, ct);
        const allowed = expectedAuthStatuses(ct, body);
        expect({ path, status: res.status, body: res.text.slice(0, 200), allowed: allowed.includes(res.status) }).toMatchObject({ allowed: true });
        expect(res.text).not.toContain('"token"');
      }),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), fc.base64String({ maxLength: 400 }).map((s) => `Bearer ${s}`), fc.constant("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.")), async (authz) => {
        const h = new Headers();
        try {
          h.set("authorization", authz);
        } catch {
          return; // not a valid header value: no client could send it
        }
        const res = await fetch(`${tg.url}/auth/me`, { headers: h });
        const text = await res.text();
        expect(res.status, text.slice(0, 200)).toBe(401);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT_MS);

  test("slow bodies and headers without bodies do not block others or crash the process", async () => {
    const head = (len: number) =>
      `POST /telegram/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Telegram-Bot-Api-Secret-Token: ${TEST_SECRET}\r\nContent-Length: ${len}\r\n\r\n`;
    const sockets = await Promise.all(
      Array.from({ length: 20 }, () => Bun.connect({ hostname: "127.0.0.1", port: tg.port, socket: { data() {}, error() {}, close() {} } })),
    );
    for (const s of sockets) s.write(head(5000));
    // Trickle a byte at a time while real traffic flows.
    for (let i = 0; i < 10; i++) {
      for (const s of sockets) s.write('{"update_id":9'.slice(i % 14, (i % 14) + 1));
      const id = 4_000_000 + i;
      const res = await post("/telegram/webhook", JSON.stringify(validUpdate(id)), "application/json", { "x-telegram-bot-api-secret-token": TEST_SECRET });
      expect(res.status).toBe(200);
      accepted.set(id, 1);
      await Bun.sleep(100);
    }
    for (const s of sockets) s.end();
    // Headers announcing a body that never comes, then the connection closes.
    for (let i = 0; i < 20; i++) {
      const s = await Bun.connect({ hostname: "127.0.0.1", port: tg.port, socket: { data() {}, error() {}, close() {} } });
      s.write(head(100 + i));
      s.end();
    }
    // A POST with no body at all.
    const empty = await post("/telegram/webhook", "", "application/json", { "x-telegram-bot-api-secret-token": TEST_SECRET });
    expect(empty.status).toBe(400);
    expect((await fetch(`${tg.url}/healthz`)).status).toBe(200);
  }, 60_000);

  test("the process stayed up, memory stayed flat, and only the valid updates are stored", async () => {
    expect(tg.proc.exitCode).toBeNull();
    expect((await fetch(`${tg.url}/healthz`)).status).toBe(200);
    // Generous: allocator arenas grow in steps; a leak per request of 1 MiB bodies would blow past it.
    expect(rssMb() - rssBefore).toBeLessThan(96);
    const db = new Database(tg.dbPath, { readonly: true });
    try {
      const rows = db.query("SELECT seq, dedupe_key AS k, payload FROM jobs WHERE kind = 'telegram.update'").all() as { seq: number; k: string; payload: string }[];
      const stored = new Set<number>();
      for (const r of rows) {
        const bytes = enc.encode(r.payload);
        expect(expectedWebhookStatus("application/json", bytes).status, `stored payload ${r.payload.slice(0, 100)}`).toBe(200);
        expect(r.k).toBe(`update:${r.seq}`);
        stored.add(r.seq);
      }
      expect([...stored].sort((a, b) => a - b)).toEqual([...accepted.keys()].sort((a, b) => a - b));
      expect((db.query("SELECT count(*) AS n FROM users").get() as { n: number }).n).toBe(0);
    } finally {
      db.close();
    }
  });
});
