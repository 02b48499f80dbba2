import { readFileSync } from "node:fs";

/**
 * How busy the webhook is: Telegram's requests received and not yet answered. When Telegram
 * delivers as fast as we ack (a burst after an outage), acks come first: the worker takes almost
 * no new jobs until the burst passes (queue/slot-budget.ts), and drains the stored backlog after.
 * Nothing is lost or reordered by this; processing only starts later.
 */
export interface IngressLoad {
  enter(): void;
  leave(): void;
  readonly inFlight: number;
  /**
   * True while, over the last whole ~100 ms window, on average at least `busyAt` webhook requests
   * were in flight and the event loop's thread wanted the CPU at least `cpuBusyAt` of the time:
   * the CPU is what acks and jobs compete for.
   */
  saturated(): boolean;
}

/** At or above this many requests in flight on average, the ingress counts as saturated. */
export const INGRESS_BUSY_AT = 16;
/**
 * ...and only while the event loop's thread ran or waited to run at least this share of the
 * time. Below that there is CPU for both: requests pile up behind a commit hold or a slow fsync,
 * not behind the worker, and yielding would only let the backlog grow under a steady rate.
 */
export const INGRESS_CPU_BUSY_AT = 0.8;
const WINDOW_MS = 100;

/**
 * Time the calling thread (the event loop) was on a CPU or runnable and waiting for one, in ms
 * (Linux schedstat: run and run-queue wait, ns). The wait counts: on a machine shared with other
 * work a saturated loop gets less than a core, and it is still saturated. Elsewhere: the
 * process's CPU time.
 */
function loopBusyMs(): number {
  try {
    const [run, wait] = readFileSync("/proc/thread-self/schedstat", "latin1").split(" ");
    return (Number(run) + Number(wait)) / 1e6;
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
}

/**
 * The count at one moment is a poor signal: group commit answers a whole batch at once, and the
 * worker looks exactly then, when the count is near 0. The peak is a poor one too: under a steady
 * rate the worker can keep up with, a commit hold or a slow fsync piles up a peak now and then,
 * and with the slot budget, yielding to each one held sustained capacity in FULL 30 % lower
 * (issue 17, phase F). So the signal is the time-weighted mean of the count over the last whole
 * window: a burst keeps requests waiting all the time (Telegram refills each connection as soon
 * as it is answered).
 */
export function createIngressLoad(
  busyAt = INGRESS_BUSY_AT,
  now: () => number = () => performance.now(),
  busyMs: () => number = loopBusyMs,
  cpuBusyAt = INGRESS_CPU_BUSY_AT,
): IngressLoad {
  let inFlight = 0;
  let windowStart = now();
  let windowBusy = busyMs();
  let busyShare = 0;
  /** The area under the in-flight count since windowStart (request·ms), and its last window's mean. */
  let area = 0;
  let changedAt = windowStart;
  let meanInFlight = 0;
  const account = (t: number) => {
    area += inFlight * (t - changedAt);
    changedAt = t;
  };
  const roll = (t: number) => {
    account(t);
    const elapsed = t - windowStart;
    if (elapsed < WINDOW_MS) return;
    const busy = busyMs();
    busyShare = (busy - windowBusy) / elapsed;
    meanInFlight = area / elapsed;
    area = 0;
    windowStart = t;
    windowBusy = busy;
  };
  return {
    enter() {
      roll(now());
      inFlight++;
    },
    leave() {
      account(now());
      inFlight = Math.max(0, inFlight - 1);
    },
    get inFlight() {
      return inFlight;
    },
    saturated() {
      roll(now());
      return meanInFlight >= busyAt && busyShare >= cpuBusyAt;
    },
  };
}
