/**
 * telegram/webhook.ts in process: every answer of POST /telegram/webhook, what each one stores,
 * counts and wakes. The store is a fake that records the jobs; the compiled binary's version of
 * these checks is test/e2e/webhook-ingress.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { createLogger } from "../../src/log";
import { createMetrics } from "../../src/metrics";
import type { InsertResult, NewJob } from "../../src/store/types";
import { createIngressLoad } from "../../src/telegram/ingress-load";
import { createWebhookHandler, MAX_UPDATE_BYTES, UPDATE_MAX_ATTEMPTS, WEBHOOK_PATH } from "../../src/telegram/webhook";

const SECRET = "current_secret";
const OLD_SECRET = "old_secret";

function setup(opts: { failStore?: boolean; secrets?: string[] } = {}) {
  const stored: NewJob[] = [];
  const seen = new Set<string>();
  let woken = 0;
  const metrics = createMetrics({ version: "t", commit: "t" });
  const load = createIngressLoad();
  const handle = createWebhookHandler({
    acceptedSecrets: opts.secrets ?? [SECRET],
    enqueue: async (jobs): Promise<InsertResult[]> => {
      if (opts.failStore) throw new Error("SQLITE_FULL: database or disk is full");
      return jobs.map((j) => {
        const inserted = !seen.has(j.dedupeKey);
        seen.add(j.dedupeKey);
        if (inserted) stored.push(j);
        return { id: stored.length, inserted };
      });
    },
    onStored: () => void woken++,
    log: createLogger({ level: "silent", secrets: [] }),
    metrics,
    clock: () => 1_000,
    load,
  });
  const post = (body: BodyInit | null, headers: Record<string, string> = {}) =>
    handle(new Request(`http://127.0.0.1${WEBHOOK_PATH}`, { method: "POST", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET, ...headers }, body }));
  const outcomes = async () => Object.fromEntries((await metrics.webhookRequests.get()).values.filter((v) => v.value > 0).map((v) => [v.labels.outcome, v.value]));
  return { post, stored, woken: () => woken, outcomes, load };
}

const update = (id: number, chatId = 42) => JSON.stringify({ update_id: id, message: { message_id: 1, date: 1, chat: { id: chatId, type: "private" }, text: "hi" } });

describe("POST /telegram/webhook", () => {
  test("a new update: stored as a job with its order key, 200, the worker woken", async () => {
    const s = setup();
    const res = await s.post(update(7, 99));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(s.stored).toEqual([{ kind: "telegram.update", dedupeKey: "update:7", orderKey: "chat:99", seq: 7, payload: update(7, 99), maxAttempts: UPDATE_MAX_ATTEMPTS, runAt: 1_000 }]);
    expect(s.woken()).toBe(1);
    expect(await s.outcomes()).toEqual({ stored: 1 });
  });

  test("the same update_id again: 200 duplicate, nothing stored, nobody woken", async () => {
    const s = setup();
    await s.post(update(8));
    const res = await s.post(update(8));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, duplicate: true });
    expect(s.stored).toHaveLength(1);
    expect(s.woken()).toBe(1);
    expect(await s.outcomes()).toEqual({ stored: 1, duplicate: 1 });
  });

  test("during a secret rotation both the current and the old secret are accepted", async () => {
    const s = setup({ secrets: [SECRET, OLD_SECRET] });
    expect((await s.post(update(1), { "x-telegram-bot-api-secret-token": OLD_SECRET })).status).toBe(200);
    expect((await s.post(update(2))).status).toBe(200);
  });

  const REFUSED: { name: string; body: () => BodyInit | null; headers?: Record<string, string>; status: number; outcome: string; error: string }[] = [
    { name: "wrong secret", body: () => update(1), headers: { "x-telegram-bot-api-secret-token": "guess" }, status: 401, outcome: "unauthorized", error: "X-Telegram-Bot-Api-Secret-Token" },
    { name: "empty secret", body: () => update(1), headers: { "x-telegram-bot-api-secret-token": "" }, status: 401, outcome: "unauthorized", error: "X-Telegram-Bot-Api-Secret-Token" },
    { name: "not JSON by media type", body: () => update(1), headers: { "content-type": "text/plain" }, status: 415, outcome: "unsupported_media_type", error: "application/json" },
    { name: "declared over the cap", body: () => `{"update_id":1,"pad":"${"x".repeat(MAX_UPDATE_BYTES)}"}`, status: 413, outcome: "too_large", error: `${MAX_UPDATE_BYTES} bytes` },
    {
      name: "streamed over the cap without Content-Length",
      body: () => new Blob([`{"update_id":1,"pad":"`, "x".repeat(MAX_UPDATE_BYTES), `"}`]).stream(),
      status: 413,
      outcome: "too_large",
      error: `${MAX_UPDATE_BYTES} bytes`,
    },
    { name: "malformed JSON", body: () => "{nope", status: 400, outcome: "bad_request", error: "not valid JSON" },
    { name: "not UTF-8", body: () => new Uint8Array([0x7b, 0xff, 0x7d]), status: 400, outcome: "bad_request", error: "UTF-8" },
    { name: "no update_id", body: () => JSON.stringify({ message: {} }), status: 400, outcome: "bad_request", error: "update_id" },
    { name: "negative update_id", body: () => JSON.stringify({ update_id: -1 }), status: 400, outcome: "bad_request", error: "update_id" },
    { name: "an array", body: () => "[1]", status: 400, outcome: "bad_request", error: "JSON object" },
  ];
  for (const row of REFUSED) {
    test(`${row.name}: ${row.status}, nothing stored`, async () => {
      const s = setup();
      const res = await s.post(row.body(), row.headers);
      expect(res.status).toBe(row.status);
      const body = (await res.json()) as { ok: boolean; error: string };
      expect(body.ok).toBe(false);
      expect(body.error).toContain(row.error);
      expect(s.stored).toEqual([]);
      expect(s.woken()).toBe(0);
      expect(await s.outcomes()).toEqual({ [row.outcome]: 1 });
    });
  }

  test("storage failing: 503 with Retry-After, nothing claimed as stored, the reason kept out of the answer", async () => {
    const s = setup({ failStore: true });
    const res = await s.post(update(3));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    const text = await res.text();
    expect(text).toContain("not stored");
    expect(text).not.toContain("SQLITE_FULL");
    expect(s.woken()).toBe(0);
    expect(await s.outcomes()).toEqual({ unavailable: 1 });
  });

  test("every request leaves the in-flight count where it found it, refused or failed", async () => {
    const ok = setup();
    await ok.post(update(1));
    await ok.post("{nope");
    expect(ok.load.inFlight).toBe(0);
    const failing = setup({ failStore: true });
    await failing.post(update(1));
    expect(failing.load.inFlight).toBe(0);
  });

  test("only requests with the right secret count toward a burst: a flood of wrong ones leaves the worker its slots", async () => {
    const s = setup();
    let entered = 0;
    const enter = s.load.enter;
    s.load.enter = () => {
      entered++;
      enter();
    };
    const refused = await Promise.all(Array.from({ length: 20 }, () => s.post(update(1), { "x-telegram-bot-api-secret-token": "wrong" })));
    expect(refused.map((r) => r.status)).toEqual(Array(20).fill(401));
    expect(entered).toBe(0);
    await s.post(update(2));
    expect(entered).toBe(1);
  });
});
