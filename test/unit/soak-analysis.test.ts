import { expect, test } from "bun:test";
import { analyse, type JobFact } from "../../bench/sim/soak-analysis";
import type { UpdateRecord } from "../../bench/sim/telegram-sim";
import type { RecordedCall } from "../support/fake-bot-api";

const rec = (updateId: number, acked: boolean, reply?: { chatId: number; replyTo: number }): UpdateRecord => ({
  update: { updateId, kind: reply ? "private_start" : "private_text", chatId: reply?.chatId ?? 1, body: {}, expectReply: reply ?? null },
  createdAt: 0,
  firstSentAt: 0,
  attempts: 1,
  ackAt: acked ? 1 : null,
  lastStatus: acked ? 200 : null,
});
const job = (id: number, seq: number, state = "done", finishedAt = 1000): JobFact => ({ id, seq, kind: "telegram.update", dedupeKey: `update:${seq}`, state, createdAt: 0, finishedAt, attempts: 1, lastError: null });
const send = (chatId: number, replyTo: number, at: number): RecordedCall => ({ method: "sendMessage", token: "t", payload: { chat_id: chatId, text: "hi", reply_parameters: { message_id: replyTo } }, at, status: 200 });
const base = { violations: [], interruptions: [], doneLines: new Map<number, number>(), concurrency: 8, notifications: new Map<string, number>() };

test("an acked update without a done job, or whose reply never went out, is dropped", () => {
  const a = analyse({ ...base, records: [rec(1, true), rec(2, true), rec(3, false), rec(4, true, { chatId: 5, replyTo: 9 })], jobs: [job(11, 1), job(12, 2, "pending"), job(14, 4)], delivered: [] });
  expect(a.dropped.map((d) => d.updateId)).toEqual([2, 4]);
  expect(a.checks.dropped.ok).toBe(false);
  expect(a.acked).toBe(3);
});

test("a reply delivered after its job was done, or two 'job done' lines, is completed twice", () => {
  const a = analyse({
    ...base,
    records: [rec(1, true, { chatId: 5, replyTo: 1 }), rec(2, true)],
    jobs: [job(11, 1, "done", 1000), job(12, 2)],
    delivered: [send(5, 1, 900), send(5, 1, 1500)],
    doneLines: new Map([[12, 2]]),
    interruptions: [{ at: 1200, kind: "kill9" }],
  });
  expect(a.completedTwice.map((d) => d.updateId).sort()).toEqual([1, 2]);
});

test("repeated deliveries count as re-runs only across an interruption, bounded per interruption", () => {
  const records = [1, 2, 3].map((i) => rec(i, true, { chatId: 5, replyTo: i }));
  const jobs = [1, 2, 3].map((i) => job(10 + i, i, "done", 5000));
  const delivered = [send(5, 1, 100), send(5, 1, 300), send(5, 2, 100), send(5, 2, 400), send(5, 3, 600), send(5, 3, 700)];
  const a = analyse({ ...base, records, jobs, delivered, interruptions: [{ at: 200, kind: "kill9" }], concurrency: 1 });
  expect(a.reruns.repeatedSends).toBe(3);
  expect(a.reruns.maxPerInterruption).toBe(2);
  expect(a.checks.repeatsPerInterruptionWithinConcurrency.ok).toBe(false);
  expect(a.reruns.unexplained).toEqual([{ target: "reply:5:3", at: 700 }]);
});
