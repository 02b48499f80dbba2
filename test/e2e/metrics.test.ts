import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { alertExprs, dashboardExprs, metricNamesIn, sample, scrapeMetrics, seriesKey, type Scrape } from "../support/prometheus";
import { messageUpdate, postUpdate, startTgwh, TEST_SECRET, waitFor, type TgwhProcess } from "../support/tgwh";

/**
 * Drives the compiled binary through every kind of webhook answer and job outcome, and checks that
 * each counter, gauge and histogram count moved by exactly the expected amount, that every metric
 * the alerts and the dashboard use exists, and that the log lines carry update_id / job id + kind.
 */
let api: FakeBotApi;
let tg: TgwhProcess;

beforeAll(async () => {
  api = startFakeBotApi();
  // 3 attempts: a dead job within ~3 s of backoff instead of minutes.
  tg = await startTgwh({ env: { TGWH_TELEGRAM_API: api.url, TGWH_UPDATE_MAX_ATTEMPTS: "3" } });
});
afterAll(async () => {
  await tg?.stop();
  api?.stop();
});

const U = { kind: "telegram.update" };
const outcome = (o: string) => seriesKey("tgwh_webhook_requests_total", { outcome: o });
const job = (name: string) => seriesKey(`tgwh_jobs_${name}_total`, U);
const botApi = (code: string) => seriesKey("tgwh_bot_api_requests_total", { method: "sendMessage", code });
const ACK_COUNT = seriesKey("tgwh_webhook_ack_seconds_count");
const PROCESSING_COUNT = seriesKey("tgwh_job_processing_seconds_count", U);
const RETRY_AFTER = seriesKey("tgwh_bot_api_retry_after_seconds_total");

/** Every series whose movement is checked: each must move by exactly its expected delta (default 0). */
const WATCHED = [
  ...["stored", "duplicate", "unauthorized", "bad_request", "too_large", "unsupported_media_type", "unavailable"].map(outcome),
  ACK_COUNT,
  ...["enqueued", "started", "succeeded", "discarded", "retried", "rescheduled", "dead"].map(job),
  PROCESSING_COUNT,
  botApi("200"),
  botApi("500"),
  botApi("429"),
  botApi("403"),
  RETRY_AFTER,
  seriesKey("tgwh_job_leases_expired_total"),
];

function expectDeltas(before: Scrape, after: Scrape, expected: Record<string, number>) {
  const got: Record<string, number> = {};
  const want: Record<string, number> = {};
  for (const key of WATCHED) {
    got[key] = (after.values.get(key) ?? 0) - (before.values.get(key) ?? 0);
    want[key] = expected[key] ?? 0;
  }
  expect(got).toEqual(want);
}

const scrape = () => scrapeMetrics(tg.url);
/** Waits until a series has moved by `delta` since `before`, then scrapes once more for the checks. */
async function scrapeWhen(before: Scrape, key: string, delta: number): Promise<Scrape> {
  await waitFor(async () => sample(await scrape(), key) - (before.values.get(key) ?? 0) >= delta, 15_000, `${key} to move by ${delta}`, tg.logs);
  return scrape();
}

/** What every single stored update adds before its job runs. */
const storedOnce = { [outcome("stored")]: 1, [ACK_COUNT]: 1, [job("enqueued")]: 1 };

const queue = (s: Scrape, state: string) => sample(s, "tgwh_queue_jobs", { state, kind: "telegram.update" });
const help = (updateId: number, chatId: number) => messageUpdate(updateId, chatId, "/help");

describe("metrics move by exactly what happened", () => {
  let start: Scrape;

  test("labelled series an alert uses exist at 0 before any traffic", async () => {
    start = await scrape();
    for (const key of [outcome("stored"), outcome("unavailable"), job("dead"), job("retried")]) expect(start.values.get(key)).toBe(0);
    expect(queue(start, "dead")).toBe(0);
    expect(start.text).toMatch(/^tgwh_build_info\{version="[^"]+",commit="[^"]+"\} 1$/m);
    for (const name of ["tgwh_process_cpu_seconds_total", "tgwh_process_resident_memory_bytes", "tgwh_nodejs_eventloop_lag_seconds"]) expect(start.names).toContain(name);
    // WAL checkpoints run on their own thread under serve (the compiled binary carries its entry).
    await waitFor(async () => sample(await scrape(), "tgwh_db_checkpoint_thread_up") === 1, 5000, "the checkpoint thread to be up", tg.logs);
    expect(start.names).toContain("tgwh_db_checkpoints_total");
  });

  /**
   * One row per way a webhook request can be answered: what is sent, the status, and the outcome
   * label it is counted under. Nothing of these is enqueued (the two duplicates repeat updates the
   * first outcome row stored).
   */
  const post = (body: string, headers: Record<string, string>) => fetch(`${tg.url}/telegram/webhook`, { method: "POST", headers, body });
  const JSON_HEADERS = { "content-type": "application/json", "x-telegram-bot-api-secret-token": TEST_SECRET };
  const ANSWERS: { what: string; send: () => Promise<Response>; status: number; outcome: string }[] = [
    { what: "a duplicate update_id", send: () => postUpdate(tg.url, help(3001, 701)), status: 200, outcome: "duplicate" },
    { what: "another duplicate", send: () => postUpdate(tg.url, help(3002, 702)), status: 200, outcome: "duplicate" },
    ...[3100, 3101, 3102].map((id) => ({ what: `wrong secret (${id})`, send: () => postUpdate(tg.url, help(id, 799), "wrong_secret_value"), status: 401, outcome: "unauthorized" })),
    { what: "no secret header", send: () => post(JSON.stringify(help(3103, 799)), { "content-type": "application/json" }), status: 401, outcome: "unauthorized" },
    { what: "malformed JSON", send: () => post("{not json", JSON_HEADERS), status: 400, outcome: "bad_request" },
    { what: "no update_id", send: () => post('{"message":{}}', JSON_HEADERS), status: 400, outcome: "bad_request" },
    { what: "text/plain", send: () => post(JSON.stringify(help(3104, 799)), { ...JSON_HEADERS, "content-type": "text/plain" }), status: 415, outcome: "unsupported_media_type" },
    { what: "over 1 MiB", send: () => post(`{"update_id":3105,"pad":"${"x".repeat(1024 * 1024)}"}`, JSON_HEADERS), status: 413, outcome: "too_large" },
  ];

  /**
   * One row per job outcome the worker can reach: what the stand-in Bot API answers first, the
   * series to wait for, and how much every watched series moves (WATCHED: all others stay put).
   * The rows run in order against one process; the "dead" row's done estimate counts the rows before it.
   */
  const OUTCOMES: {
    name: string;
    updates: number[];
    fail?: { reply: Parameters<FakeBotApi["failNext"]>[1]; times?: number };
    until: string;
    deltas: Record<string, number>;
    then?: (after: Scrape) => void;
  }[] = [
    {
      name: "five updates: stored, processed, one sendMessage each",
      updates: [3001, 3002, 3003, 3004, 3005],
      until: job("succeeded"),
      deltas: { [outcome("stored")]: 5, [ACK_COUNT]: 5, [job("enqueued")]: 5, [job("started")]: 5, [job("succeeded")]: 5, [PROCESSING_COUNT]: 5, [botApi("200")]: 5 },
    },
    {
      name: "a Bot API 500 then success: one retry, then done",
      updates: [3006],
      fail: { reply: { kind: "error", code: 500, description: "Internal Server Error" } },
      until: job("succeeded"),
      deltas: { ...storedOnce, [job("started")]: 2, [job("retried")]: 1, [job("succeeded")]: 1, [PROCESSING_COUNT]: 1, [botApi("500")]: 1, [botApi("200")]: 1 },
    },
    {
      name: "a Bot API 429: rescheduled after retry_after without spending an attempt",
      updates: [3007],
      fail: { reply: { kind: "error", code: 429, description: "Too Many Requests: retry after 1", retryAfter: 1 } },
      until: job("succeeded"),
      deltas: { ...storedOnce, [job("started")]: 2, [job("rescheduled")]: 1, [job("succeeded")]: 1, [PROCESSING_COUNT]: 1, [botApi("429")]: 1, [RETRY_AFTER]: 1, [botApi("200")]: 1 },
    },
    {
      name: "a job that keeps failing goes dead after its attempts; the dead gauge shows it",
      updates: [3008],
      fail: { reply: { kind: "error", code: 500, description: "Internal Server Error" }, times: 3 },
      until: job("dead"),
      deltas: { ...storedOnce, [job("started")]: 3, [job("retried")]: 2, [job("dead")]: 1, [botApi("500")]: 3 },
      then: (after) => {
        expect(queue(after, "dead")).toBe(1);
        expect(sample(after, "tgwh_queue_oldest_pending_age_seconds")).toBe(0);
        // The rows above left 7 done jobs; the estimate is their id span, an upper bound.
        const done = sample(after, "tgwh_queue_done_jobs_estimate");
        expect(done).toBeGreaterThanOrEqual(7);
        expect(done).toBeLessThanOrEqual(12);
      },
    },
    {
      name: "a 403 (bot blocked) discards the job: the discarded counter and gauge show it, no retry",
      updates: [3009],
      fail: { reply: { kind: "error", code: 403, description: "Forbidden: bot was blocked by the user" } },
      until: job("discarded"),
      deltas: { ...storedOnce, [job("started")]: 1, [job("discarded")]: 1, [PROCESSING_COUNT]: 1, [botApi("403")]: 1 },
      then: (after) => expect(queue(after, "discarded")).toBe(1),
    },
  ];

  for (const row of OUTCOMES) {
    test(row.name, async () => {
      const before = await scrape();
      if (row.fail) api.failNext("sendMessage", row.fail.reply, row.fail.times);
      for (const id of row.updates) expect((await postUpdate(tg.url, help(id, 700 + (id - 3000)))).status).toBe(200);
      const after = await scrapeWhen(before, row.until, row.deltas[row.until]!);
      expectDeltas(before, after, row.deltas);
      expect(queue(after, "pending") + queue(after, "running")).toBe(0);
      row.then?.(after);
    });
  }

  test("duplicates, wrong secrets and malformed requests: counted by outcome, nothing enqueued", async () => {
    const before = await scrape();
    for (const a of ANSWERS) expect({ what: a.what, status: (await a.send()).status }).toEqual({ what: a.what, status: a.status });
    const deltas: Record<string, number> = { [ACK_COUNT]: ANSWERS.length };
    for (const a of ANSWERS) deltas[outcome(a.outcome)] = (deltas[outcome(a.outcome)] ?? 0) + 1;
    expectDeltas(before, await scrape(), deltas);
  });

  test("every metric used by alerts.yml and the Grafana dashboard exists in the real /metrics", async () => {
    const names = (await scrape()).names;
    const used = metricNamesIn([...alertExprs(), ...dashboardExprs()]);
    expect(used.size).toBeGreaterThan(10);
    const missing = [...used].filter((n) => !names.has(n));
    expect(missing).toEqual([]);
  });
});

describe("log lines carry the update and job they are about", () => {
  test("update lines carry update_id; job lines carry jobId and kind", async () => {
    // pino writes asynchronously: wait for the last job's line before reading the log.
    await waitFor(() => tg.logLines().some((l) => String(l.msg).startsWith("job dead")), 5000, "the job dead log line", tg.logs);
    const lines = tg.logLines();
    // One spelling only: update_id (Telegram's own name).
    expect(lines.filter((l) => "updateId" in l)).toEqual([]);
    const webhookAboutUpdate = lines.filter((l) => l.msg === "webhook" && ["stored", "duplicate", "unavailable"].includes(l.outcome as string));
    expect(webhookAboutUpdate.length).toBe(11);
    for (const l of webhookAboutUpdate) {
      expect(typeof l.update_id).toBe("number");
      expect(typeof l.jobId === "number" || l.outcome === "unavailable").toBe(true);
    }
    const jobLines = lines.filter((l) => "jobId" in l || /^job\b/.test(String(l.msg)));
    expect(jobLines.length).toBeGreaterThan(10);
    for (const l of jobLines) {
      expect(typeof l.jobId).toBe("number");
      expect(typeof l.kind).toBe("string");
      if (l.kind === "telegram.update") expect(typeof l.update_id).toBe("number");
    }
    // A line written deep inside a job (the Bot API transformer) still names the job.
    const limited = lines.find((l) => l.msg === "Bot API answered 429 Too Many Requests");
    expect(limited).toMatchObject({ kind: "telegram.update", update_id: 3007, jobId: expect.any(Number) });
    const dead = lines.find((l) => String(l.msg).startsWith("job dead"));
    expect(dead).toMatchObject({ kind: "telegram.update", update_id: 3008, jobId: expect.any(Number), outcome: "dead" });
  });
});

describe("a job whose holder died with no attempts left", () => {
  const freePort = () => {
    const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const port = s.port!;
    s.stop(true);
    return port;
  };

  test("is counted dead (and as an expired lease) by the process that finds it, with a job log line", async () => {
    const hanging = startFakeBotApi();
    hanging.failAlways("sendMessage", { kind: "hang" });
    const healthy = startFakeBotApi();
    // Two instances on one database (as in a canary), on distinct ports so B does not treat A's
    // lease as its own previous process's.
    const a = await startTgwh({ port: freePort(), env: { TGWH_TELEGRAM_API: hanging.url, TGWH_UPDATE_MAX_ATTEMPTS: "1", TGWH_LEASE_SECONDS: "2" } });
    let b: TgwhProcess | undefined;
    try {
      expect((await postUpdate(a.url, help(3500, 750))).status).toBe(200);
      await waitFor(() => hanging.callsOf("sendMessage").length === 1, 10_000, "A to be stuck in sendMessage", a.logs);
      await a.kill9();
      b = await startTgwh({ dir: a.dir, dbPath: a.dbPath, port: freePort(), env: { TGWH_TELEGRAM_API: healthy.url, TGWH_LEASE_SECONDS: "2" } });
      const bUrl = b.url;
      await waitFor(async () => sample(await scrapeMetrics(bUrl), job("dead")) >= 1, 15_000, "the expired job to be counted dead", b.logs);
      const after = await scrapeMetrics(bUrl);
      expect(sample(after, job("dead"))).toBe(1);
      expect(sample(after, "tgwh_job_leases_expired_total")).toBe(1);
      expect(sample(after, job("started"))).toBe(0);
      expect(sample(after, "tgwh_queue_jobs", { state: "dead", kind: "telegram.update" })).toBe(1);
      expect(healthy.callsOf("sendMessage")).toHaveLength(0);
      await waitFor(() => b!.logLines().some((l) => String(l.msg).startsWith("job dead")), 5000, "B's job dead line", b.logs);
      expect(b.logLines().find((l) => String(l.msg).startsWith("job dead"))).toMatchObject({ jobId: expect.any(Number), kind: "telegram.update", update_id: 3500, state: "dead" });
    } finally {
      await b?.stop();
      await a.stop();
      hanging.stop();
      healthy.stop();
    }
  }, 40_000);
});
