import { describe, expect, test } from "bun:test";
import { PermanentJobError, RescheduleError } from "../../src/queue/errors";
import type { Job as JobRow } from "../../src/store/types";
import { decideFinish } from "../../src/queue/worker";

const row = (attempts: number, maxAttempts = 3) => ({ attempts, maxAttempts }) as JobRow;
const policy = { baseMs: 1000, capMs: 60_000 };

describe("decideFinish", () => {
  test("success → done", () => {
    expect(decideFinish(row(1), undefined, 0, policy).finish).toEqual({ type: "done", error: null });
  });
  test("RescheduleError → retry at the given delay without spending the attempt", () => {
    const d = decideFinish(row(3), new RescheduleError(2000, "429"), 10, policy);
    expect(d).toEqual({ outcome: "rescheduled", finish: { type: "retry", runAt: 2010, error: "RescheduleError: 429", spendAttempt: false } });
  });
  test("PermanentJobError → discarded with the error kept, whatever attempts are left", () => {
    for (const attempts of [1, 3]) {
      expect(decideFinish(row(attempts), new PermanentJobError("403 blocked"), 0, policy)).toEqual({
        outcome: "discarded",
        finish: { type: "discarded", error: "PermanentJobError: 403 blocked" },
      });
    }
  });
  test("other errors back off, and the last attempt goes dead", () => {
    const retry = decideFinish(row(2), new Error("500"), 0, policy, () => 0.5);
    expect(retry).toEqual({ outcome: "retried", finish: { type: "retry", runAt: 1000, error: "Error: 500", spendAttempt: true } });
    expect(decideFinish(row(3), new Error("500"), 0, policy).finish).toEqual({ type: "dead", error: "Error: 500" });
  });
});
