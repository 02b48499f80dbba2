/**
 * Sliding-window checks over the arrival times a fake Bot API recorded (RecordedCall.at), where
 * Telegram counts sends. Pure; the e2e tests assert that these come back empty.
 */

/** A window that held more sends than allowed: the first and last arrival of the crowd, and how many. */
export interface Crowd {
  from: number;
  to: number;
  count: number;
}

/**
 * Every place where more than `max` arrivals fall within `windowMs`: sorted, arrival i and arrival
 * i - max are less than a window apart (so max + 1 sends landed in one window). Ties count alike.
 */
export function crowdedWindows(arrivals: readonly number[], max: number, windowMs: number): Crowd[] {
  const at = [...arrivals].sort((a, b) => a - b);
  const out: Crowd[] = [];
  for (let i = max; i < at.length; i++) {
    if (at[i]! - at[i - max]! < windowMs) out.push({ from: at[i - max]!, to: at[i]!, count: max + 1 });
  }
  return out;
}

/** Pairs of consecutive arrivals closer than `intervalMs` (one chat's sends: at most one per interval). */
export function tooClose(arrivals: readonly number[], intervalMs: number): Crowd[] {
  return crowdedWindows(arrivals, 1, intervalMs);
}

/** The most arrivals in any window of `windowMs` (for a log line). */
export function busiestWindow(arrivals: readonly number[], windowMs: number): number {
  const at = [...arrivals].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < at.length; i++) {
    while (at[i]! - at[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}
