/**
 * How busy the webhook is: requests received and not yet answered. When Telegram delivers as
 * fast as we ack (a burst after an outage), acks come first: the worker gives up most of its
 * slots to the ingress until the burst passes, and drains the stored backlog after. Nothing is
 * lost or reordered by this; processing only starts later.
 */
export interface IngressLoad {
  enter(): void;
  leave(): void;
  readonly inFlight: number;
  /** True while, within the last ~100–200 ms, at least `busyAt` webhook requests were in flight at once. */
  saturated(): boolean;
}

/** At or above this many requests in flight at once, the ingress counts as saturated. */
export const INGRESS_BUSY_AT = 16;
const WINDOW_MS = 100;

/**
 * The count right now is a poor signal: group commit answers a whole batch at once, and the
 * worker looks exactly then (its claims resolve in the same commit), when the count is near 0.
 * So the peak of the current and the previous 100 ms window is used.
 */
export function createIngressLoad(busyAt = INGRESS_BUSY_AT, now: () => number = () => performance.now()): IngressLoad {
  let inFlight = 0;
  let windowStart = now();
  let peak = 0;
  let previousPeak = 0;
  const roll = () => {
    const t = now();
    if (t - windowStart < WINDOW_MS) return;
    previousPeak = t - windowStart < 2 * WINDOW_MS ? peak : 0;
    peak = inFlight;
    windowStart = t;
  };
  return {
    enter() {
      inFlight++;
      roll();
      if (inFlight > peak) peak = inFlight;
    },
    leave: () => void (inFlight = Math.max(0, inFlight - 1)),
    get inFlight() {
      return inFlight;
    },
    saturated() {
      roll();
      return Math.max(peak, previousPeak) >= busyAt;
    },
  };
}
