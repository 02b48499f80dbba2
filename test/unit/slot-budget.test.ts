/** queue/slot-budget.ts alone: how many slots the worker may fill during and after a burst. */
import { describe, expect, test } from "bun:test";
import { createSlotBudget, initialSlotBudget, nextSlotBudget, pulseTaken, slotBudgetPolicy, type SlotBudgetState } from "../../src/queue/slot-budget";

const policy = slotBudgetPolicy(32); // step 4 per 100 ms, a pulse of 4 per 250 ms

/** Feeds (saturated, time) pairs through the pure step, as the worker does. */
function run(steps: [saturated: boolean, at: number][], state: SlotBudgetState = initialSlotBudget(policy)) {
  const slots: number[] = [];
  for (const [saturated, at] of steps) {
    const next = nextSlotBudget(state, saturated, at, policy);
    slots.push(next.slots);
    state = next.state;
  }
  return { slots, state };
}

describe("nextSlotBudget", () => {
  test("outside a burst: every slot", () => {
    expect(run([[false, 0], [false, 5_000]]).slots).toEqual([32, 32]);
  });

  test("a burst: one pulse, then nothing until the pulse is taken and pulseEveryMs has passed", () => {
    const first = nextSlotBudget(initialSlotBudget(policy), true, 1_000, policy);
    expect(first).toMatchObject({ slots: 4, pulse: true });
    // Looked at again before a claim took it (every commit wakes the worker): still there.
    expect(nextSlotBudget(first.state, true, 1_010, policy)).toMatchObject({ slots: 4, pulse: true });
    const taken = pulseTaken(first.state, 1_010);
    expect(nextSlotBudget(taken, true, 1_100, policy)).toMatchObject({ slots: 0, pulse: false });
    expect(nextSlotBudget(taken, true, 1_259, policy)).toMatchObject({ slots: 0, pulse: false });
    expect(nextSlotBudget(taken, true, 1_260, policy)).toMatchObject({ slots: 4, pulse: true });
  });

  test("after a burst the slots come back a step per window, the first step at once, never above concurrency", () => {
    const burst = run([[true, 0], [true, 50]]);
    const after = run(
      [[false, 60], [false, 99], [false, 150], [false, 250], [false, 449], [false, 1_000], [false, 9_000]],
      pulseTaken(burst.state, 50),
    );
    // rampAt is the last saturated look (50): windows end at 150, 250, 350, ...
    expect(after.slots).toEqual([4, 4, 8, 12, 16, 32, 32]);
  });

  test("a new burst during the ramp drops to zero at once", () => {
    const { slots } = run([[true, 0], [false, 100], [false, 300], [true, 310], [false, 320]], { ramp: 32, rampAt: 0, pulseAt: 200 });
    expect(slots).toEqual([0, 4, 12, 0, 4]);
  });
});

describe("createSlotBudget", () => {
  test("a claim round that asked for jobs takes the pulse; one that asked for none does not", () => {
    let t = 0;
    const budget = createSlotBudget(policy, () => true, () => t);
    expect(budget.slots(0)).toBe(4);
    budget.claimed(0);
    expect(budget.slots(0)).toBe(4);
    budget.claimed(4);
    t = 100;
    expect(budget.slots(0)).toBe(0);
    t = 250;
    expect(budget.slots(0)).toBe(4);
  });

  test("a pulse is new jobs on top of those still running (hung in a slow call), within concurrency", () => {
    const budget = createSlotBudget(policy, () => true, () => 0);
    expect(budget.slots(4)).toBe(8);
    expect(budget.slots(30)).toBe(32);
    const calm = createSlotBudget(policy, () => false, () => 0);
    expect(calm.slots(30)).toBe(32); // outside a burst the slots are the slots, taken or not
  });
});
