/**
 * How many of its slots the worker may fill while the webhook competes for the same core.
 *
 * During a burst the acks (the durable part) get the event loop: the worker takes no new jobs,
 * except one small round every `pulseEveryMs`, so the oldest stored updates keep moving and a burst
 * that never ends cannot starve processing. Its claims and finishes are the costly part: each commit
 * that carries one writes the old pages of the jobs it touches, so one slot costs nearly as much as
 * four (issue 17, phase E), and a pulse touches a few commits a second instead of every one.
 * When the burst ends the slots come back a step per window, not all at once: a full round of
 * claims landing between acks is what pushed the ack p99 up when the loop hovered near the threshold.
 */
export interface SlotBudgetPolicy {
  concurrency: number;
  /** Slots regained per `windowMs` once the webhook is no longer saturated. */
  step: number;
  windowMs: number;
  /** While saturated: at most one round of `pulseSlots` jobs per this long. */
  pulseEveryMs: number;
  pulseSlots: number;
}

export function slotBudgetPolicy(concurrency: number): SlotBudgetPolicy {
  const eighth = Math.max(1, Math.ceil(concurrency / 8));
  return { concurrency, step: eighth, windowMs: 100, pulseEveryMs: 250, pulseSlots: eighth };
}

export interface SlotBudgetState {
  /** Slots allowed outside a burst; 0 during one, rising by `step` per window after it. */
  ramp: number;
  /** Where the current ramp window started: the last look during a burst, then each window's end. */
  rampAt: number;
  /** When the last pulse was granted (a burst's only claims). */
  pulseAt: number;
}

export const initialSlotBudget = (policy: SlotBudgetPolicy): SlotBudgetState => ({
  ramp: policy.concurrency,
  rampAt: Number.NEGATIVE_INFINITY,
  pulseAt: Number.NEGATIVE_INFINITY,
});

/**
 * The slots allowed now and the state after. Pure: the worker keeps the state, tests drive it alone.
 * `pulse`: the slots are a burst's pulse; the worker marks it taken (`pulseTaken`) once a claim
 * round sized by them asked for jobs, so looking (every commit wakes the worker) does not use it up.
 */
export function nextSlotBudget(state: SlotBudgetState, saturated: boolean, now: number, policy: SlotBudgetPolicy): { slots: number; pulse: boolean; state: SlotBudgetState } {
  if (saturated) {
    const pulse = now - state.pulseAt >= policy.pulseEveryMs;
    return { slots: pulse ? policy.pulseSlots : 0, pulse, state: { ...state, ramp: 0, rampAt: now } };
  }
  if (state.ramp >= policy.concurrency) return { slots: policy.concurrency, pulse: false, state };
  const windows = Math.floor((now - state.rampAt) / policy.windowMs);
  // The first step comes at once: the ingress already needs a whole quiet 100 ms window to call the burst over.
  const ramp = Math.min(policy.concurrency, Math.max(policy.step, state.ramp + windows * policy.step));
  const rampAt = state.rampAt + windows * policy.windowMs;
  return { slots: ramp, pulse: false, state: { ...state, ramp, rampAt } };
}

export const pulseTaken = (state: SlotBudgetState, now: number): SlotBudgetState => ({ ...state, pulseAt: now });

/** The worker's view: the slots it may fill now, and word that a claim round took some. */
export interface SlotBudget {
  /**
   * `taken`: slots already in use (jobs running, claims in flight). A pulse adds `pulseSlots` new
   * jobs on top of them, within concurrency: jobs hanging in a slow Bot API call cost the ingress
   * nothing, and must not use up the pulse that keeps the backlog moving (docs/soak.md, finding 5).
   */
  slots(taken: number): number;
  claimed(asked: number): void;
}

export function createSlotBudget(policy: SlotBudgetPolicy, saturated: () => boolean, now: () => number = () => performance.now()): SlotBudget {
  let state = initialSlotBudget(policy);
  let pulse = false;
  return {
    slots(taken) {
      const next = nextSlotBudget(state, saturated(), now(), policy);
      state = next.state;
      pulse = next.pulse;
      return pulse ? Math.min(policy.concurrency, taken + next.slots) : next.slots;
    },
    claimed(asked) {
      if (pulse && asked > 0) state = pulseTaken(state, now());
    },
  };
}
