import { readFileSync } from "node:fs";

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
  /**
   * True while, within the last ~100–200 ms, at least `busyAt` webhook requests were in flight at
   * once and the event loop's thread wanted the CPU at least `cpuBusyAt` of the time: the CPU is
   * what acks and jobs compete for.
   */
  saturated(): boolean;
}

/** At or above this many requests in flight at once, the ingress counts as saturated. */
export const INGRESS_BUSY_AT = 16;
/**
 * ...and only while the event loop's thread ran or waited to run at least this share of the
 * time. Below that there is CPU for both: requests pile up behind a commit hold or a slow fsync,
 * not behind the worker, and yielding would only let the backlog grow under a steady rate
 * (sustained capacity in FULL was held to the pace of the 4 slots left).
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
 * The count right now is a poor signal: group commit answers a whole batch at once, and the
 * worker looks exactly then (its claims resolve in the same commit), when the count is near 0.
 * So the peak of the current and the previous 100 ms window is used, and the loop's busy share
 * of the last whole window (read once per window).
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
  let peak = 0;
  let previousPeak = 0;
  let busyShare = 0;
  const roll = () => {
    const t = now();
    const elapsed = t - windowStart;
    if (elapsed < WINDOW_MS) return;
    previousPeak = elapsed < 2 * WINDOW_MS ? peak : 0;
    const busy = busyMs();
    busyShare = (busy - windowBusy) / elapsed;
    peak = inFlight;
    windowStart = t;
    windowBusy = busy;
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
      return Math.max(peak, previousPeak) >= busyAt && busyShare >= cpuBusyAt;
    },
  };
}
