import { describe, expect, test } from "bun:test";
import { JobState as JobStateSchema } from "../../src/admin/schemas";
import { MIN_RETENTION_MS, retentionCutoff } from "../../src/queue/retention";
import { appendAttemptError, MAX_KEPT_ERRORS, readyOnInsert } from "../../src/store/job-rules";
import { JOB_STATES, PRUNED_STATES } from "../../src/store/states";

describe("appendAttemptError", () => {
  test("appends newest last and keeps only the newest MAX_KEPT_ERRORS", () => {
    let h: string | null = null;
    for (let i = 1; i <= MAX_KEPT_ERRORS + 2; i++) h = appendAttemptError(h, { attempt: i, at: i * 10, error: `e${i}` });
    const list = JSON.parse(h!) as { attempt: number; at: number; error: string }[];
    expect(list).toHaveLength(MAX_KEPT_ERRORS);
    expect(list[0]!.attempt).toBe(3);
    expect(list.at(-1)).toEqual({ attempt: MAX_KEPT_ERRORS + 2, at: (MAX_KEPT_ERRORS + 2) * 10, error: `e${MAX_KEPT_ERRORS + 2}` });
  });
  test("a corrupt or non-array history starts over instead of failing the finish", () => {
    for (const bad of ["{", '{"a":1}', "42"]) expect(JSON.parse(appendAttemptError(bad, { attempt: 1, at: 2, error: "x" }))).toEqual([{ attempt: 1, at: 2, error: "x" }]);
  });
});

describe("the chain rule on insert", () => {
  test("ready unless the job has an order_key whose chain is busy", () => {
    const busy = (k: string) => k === "chat:1";
    expect(readyOnInsert(null, busy)).toBe(1);
    expect(readyOnInsert("chat:2", busy)).toBe(1);
    expect(readyOnInsert("chat:1", busy)).toBe(0);
    expect(readyOnInsert(null, () => {
      throw new Error("an unordered job never asks");
    })).toBe(1);
  });
});

describe("retentionCutoff", () => {
  test("the window in days, never under 24 h (Telegram's redelivery window)", () => {
    expect(retentionCutoff(10 * MIN_RETENTION_MS, 7)).toBe(3 * MIN_RETENTION_MS);
    expect(retentionCutoff(10 * MIN_RETENTION_MS, 0)).toBe(9 * MIN_RETENTION_MS);
    expect(retentionCutoff(10 * MIN_RETENTION_MS, 0.5)).toBe(9 * MIN_RETENTION_MS);
  });
});

describe("job states", () => {
  test("the admin API's state enum is exactly the stored states; retention prunes done and discarded only", () => {
    const literals = (JobStateSchema as unknown as { anyOf: { const: string }[] }).anyOf.map((s) => s.const);
    expect(literals).toEqual([...JOB_STATES]);
    expect([...PRUNED_STATES]).toEqual(["done", "discarded"]);
  });
});
