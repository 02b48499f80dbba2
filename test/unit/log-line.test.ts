/**
 * log.ts's hand-built lines (createLineWriter): the same bytes as pino's own line for the same
 * fields, through the same scrubber and stream, at the same level threshold. The webhook's 200
 * lines use it, so they are checked here against what `log.info(object, "webhook")` prints.
 */
import { describe, expect, test } from "bun:test";
import pino from "pino";
import { createLineWriter, createLogger, jsonNumber, jsonString } from "../../src/log";
import { createTurnBatchedStream } from "../../src/log-stream";
import { createMetrics } from "../../src/metrics";
import { createWorker } from "../../src/queue/worker";
import type { Job } from "../../src/store/rows";
import { createWebhookHandler, WEBHOOK_PATH } from "../../src/telegram/webhook";

const SECRET = "line_secret_123";
const TOKEN = "123456789:TEST_fake_token_for_tests_only_0000000";

function collect() {
  const lines: string[] = [];
  return { lines, destination: { write: (s: string) => void lines.push(s) } };
}
/** The line with its time replaced, so two lines written a millisecond apart compare. */
const sameTime = (line: string) => line.replace(/"time":"[^"]*"/, '"time":"T"');

/** Fields as the hand-built fragment, built the way callers build it. */
function fragment(o: Record<string, string | number | null>): string {
  return Object.entries(o)
    .map(([k, v]) => `,${JSON.stringify(k)}:${typeof v === "number" ? jsonNumber(v) : jsonString(v)}`)
    .join("");
}

const awkward = ["plain", 'quote " and \\ backslash', "tab\tnew\nline\u0001", "ünïcødé ✓ 😀", "lone \ud800 surrogate", "x".repeat(60), `has ${SECRET} inside`, `bot${TOKEN}/x`];

describe("createLineWriter", () => {
  test("writes exactly pino's line: level, time, bindings, fields, msg, scrubbed", () => {
    const { lines, destination } = collect();
    const log = createLogger({ level: "info", secrets: [SECRET, TOKEN], destination }).child({ component: "webhook" });
    for (const value of awkward) {
      for (const level of ["info", "warn", "error"] as const) {
        const fields = { reqId: value, outcome: "stored", status: 200, ms: 2.31, update_id: 9_007_199_254_740_991, jobId: 7, type: null };
        log[level](fields, "webhook");
        createLineWriter(log, level, "webhook")(fragment(fields));
        const [byPino, byHand] = lines.splice(0);
        expect(sameTime(byHand!)).toBe(sameTime(byPino!));
        expect(byHand!).not.toContain(SECRET);
        expect(JSON.parse(byHand!).time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      }
    }
  });

  test("nested children's bindings and a message with escapes", () => {
    const { lines, destination } = collect();
    const log = createLogger({ level: "info", secrets: [], destination }).child({ component: "worker" }).child({ jobId: 1, kind: "telegram.update", attempt: 2, update_id: 9 });
    log.info({ outcome: "succeeded", seconds: 0.0012 }, 'job "done"');
    createLineWriter(log, "info", 'job "done"')(fragment({ outcome: "succeeded", seconds: 0.0012 }));
    expect(sameTime(lines[1]!)).toBe(sameTime(lines[0]!));
  });

  test("below the logger's level nothing is written", () => {
    const { lines, destination } = collect();
    const log = createLogger({ level: "warn", secrets: [], destination });
    createLineWriter(log, "info", "webhook")(fragment({ a: 1 }));
    createLineWriter(log, "warn", "webhook")(fragment({ a: 1 }));
    expect(lines.map((l) => JSON.parse(l).level)).toEqual([40]);
  });

  test("a logger pino must format itself (a mixin) gets pino's line from the parsed fields", () => {
    const { lines, destination } = collect();
    const log = pino({ mixin: () => ({ extra: true }), base: null, timestamp: false }, destination as pino.DestinationStream);
    log.info({ a: "x", b: 2 }, "m");
    createLineWriter(log, "info", "m")(fragment({ a: "x", b: 2 }));
    expect(lines[1]).toBe(lines[0]!);
  });
});

describe("the webhook's hand-built 200 lines", () => {
  test("parse to the object pino printed before: reqId, outcome, status, ms, update_id, jobId, kind, type", async () => {
    const { lines, destination } = collect();
    const log = createLogger({ level: "info", secrets: [SECRET], destination }).child({ component: "webhook" });
    const seen = new Set<string>();
    const handle = createWebhookHandler({
      acceptedSecrets: [SECRET],
      enqueue: async (jobs) => jobs.map((j) => ({ id: 41, inserted: !seen.has(j.dedupeKey) && !!seen.add(j.dedupeKey) })),
      onStored: () => {},
      log,
      metrics: createMetrics({ version: "t", commit: "t" }),
    });
    const body = JSON.stringify({ update_id: 5, message: { message_id: 1, date: 1, chat: { id: 3, type: "private" }, text: "hi" } });
    const post = () => handle(new Request(`http://127.0.0.1${WEBHOOK_PATH}`, { method: "POST", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET, "x-request-id": `r"${SECRET}` }, body }));
    expect(await (await post()).json()).toEqual({ ok: true });
    expect(await (await post()).json()).toEqual({ ok: true, duplicate: true });
    const [stored, duplicate] = lines.map((l) => JSON.parse(l));
    const common = { level: 30, service: "tgwh", component: "webhook", reqId: 'r"[REDACTED]', status: 200, update_id: 5, jobId: 41, kind: "telegram.update", msg: "webhook" };
    expect(Object.keys(stored)).toEqual(["level", "time", "service", "component", "reqId", "outcome", "status", "ms", "update_id", "jobId", "kind", "type", "msg"]);
    expect(stored).toEqual({ ...common, time: stored.time, outcome: "stored", ms: stored.ms, type: "message" });
    expect(duplicate).toEqual({ ...common, time: duplicate.time, outcome: "duplicate", ms: duplicate.ms });
    expect(typeof stored.ms).toBe("number");
    // pino's own line for the same object is the same bytes
    const byPino = collect();
    createLogger({ level: "info", secrets: [SECRET], destination: byPino.destination }).child({ component: "webhook" }).info({ ...stored, level: undefined, time: undefined, service: undefined, component: undefined, msg: undefined }, "webhook");
    expect(sameTime(lines[0]!)).toBe(sameTime(byPino.lines[0]!));
  });

  test("a store that has no id yet (an ingest journal answers 0): the line leaves jobId out", async () => {
    const { lines, destination } = collect();
    const handle = createWebhookHandler({
      acceptedSecrets: [SECRET],
      enqueue: async (jobs) => jobs.map(() => ({ id: 0, inserted: true })),
      onStored: () => {},
      log: createLogger({ level: "info", secrets: [], destination }),
      metrics: createMetrics({ version: "t", commit: "t" }),
    });
    const body = JSON.stringify({ update_id: 6, message: { message_id: 1, date: 1, chat: { id: 3, type: "private" }, text: "hi" } });
    await handle(new Request(`http://127.0.0.1${WEBHOOK_PATH}`, { method: "POST", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET }, body }));
    const line = JSON.parse(lines[0]!);
    expect(line.update_id).toBe(6);
    expect("jobId" in line).toBe(false);
  });
});

describe("the worker's hand-built job outcome line", () => {
  test("a job that logged nothing: the same bytes as its child logger's info line; one that logged: pino's own", async () => {
    const { lines, destination } = collect();
    const log = createLogger({ level: "info", secrets: [SECRET], destination }).child({ component: "worker" });
    const job = (id: number) => ({ id, kind: "telegram.update", seq: 700 + id, attempts: 1, maxAttempts: 8, orderKey: null, errors: null, createdAt: 0 }) as unknown as Job;
    let claimed = false;
    const finished: number[] = [];
    const worker = createWorker({
      jobs: {
        claim: async () => ({ expired: [], jobs: claimed ? [] : ((claimed = true), [job(1), job(2)]) }),
        finish: async (j) => (finished.push(j.id), true),
        nextWakeAt: async () => null,
      },
      concurrency: 4,
      leaseMs: 30_000,
      owner: "t/1",
      log,
      logFields: (j) => ({ update_id: j.seq }),
    });
    worker.start({ "telegram.update": async (j, ctx) => void (j.id === 2 && ctx.log.info({ note: SECRET }, "handler says")) });
    for (let i = 0; i < 100 && lines.length < 3; i++) await Bun.sleep(5);
    await worker.stop(1000);
    const done = lines.filter((l) => l.includes('"job done"')).map((l) => JSON.parse(l));
    expect(done.map((d) => d.jobId).sort()).toEqual([1, 2]);
    for (const d of done) {
      expect(Object.keys(d)).toEqual(["level", "time", "service", "component", "jobId", "kind", "attempt", "update_id", "outcome", "seconds", "msg"]);
      const byPino = collect();
      createLogger({ level: "info", secrets: [SECRET], destination: byPino.destination })
        .child({ component: "worker" })
        .child({ jobId: d.jobId, kind: d.kind, attempt: d.attempt, update_id: d.update_id })
        .info({ outcome: d.outcome, seconds: d.seconds, error: undefined }, "job done");
      expect(sameTime(lines.find((l) => l.includes(`"jobId":${d.jobId},`) && l.includes('"job done"'))!)).toBe(sameTime(byPino.lines[0]!));
    }
    expect(lines.find((l) => l.includes("handler says"))).toContain('"jobId":2,"kind":"telegram.update","attempt":1,"update_id":702,"note":"[REDACTED]"');
  });
});

describe("createTurnBatchedStream", () => {
  test("the lines of one turn reach the destination in one write, in order; flush and flushSync hand over what is pending", async () => {
    const writes: string[] = [];
    let flushedSync = 0;
    const s = createTurnBatchedStream({ write: (c: string) => void writes.push(c), flushSync: () => void flushedSync++ });
    s.write("a\n");
    s.write("b\n");
    expect(writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(["a\nb\n"]);
    s.write("c\n");
    s.flushSync!();
    expect(writes).toEqual(["a\nb\n", "c\n"]);
    expect(flushedSync).toBe(1);
    s.write("d\n");
    await new Promise<void>((r) => s.flush!(() => r()));
    expect(writes).toEqual(["a\nb\n", "c\n", "d\n"]);
    await new Promise((r) => setImmediate(r));
    expect(writes).toHaveLength(3); // the turn's handover found nothing left
  });
});
