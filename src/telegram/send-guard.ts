/**
 * The last check before a send leaves: the limiter books slots ahead of time, but a job that
 * slept until its slot can wake late (an fsync or a WAL checkpoint blocks the event loop for tens
 * of ms) and then go out together with the jobs booked after it. The chaos soak saw 34 sends land
 * inside one second that way. This guard keeps the hard rules at the moment of sending: at most
 * `perSecond` sends in any GLOBAL_WINDOW_MS (0 = no cap) and `perChatMs` between two sends to one
 * chat. The window is 10 % longer than Telegram's second: between this check and Telegram's clock
 * the requests still cross the event loop and the network, and the 30-minute soak saw that jitter
 * squeeze 34 sends into one second even with a 1000 ms window here.
 */
export const GLOBAL_WINDOW_MS = 1100;
export interface SendGuardOptions {
  perSecond: number;
  perChatMs?: number;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export function createSendGuard(opts: SendGuardOptions) {
  const clock = opts.clock ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const perChatMs = opts.perChatMs ?? 1000;
  let recent: number[] = [];
  const lastByChat = new Map<string, number>();
  let lastSweep = 0;

  /** How long to wait before a send to chatId may go; 0 = now. Pure apart from the state. */
  function waitFor(chatId: string, now: number): number {
    let wait = 0;
    const last = lastByChat.get(chatId);
    if (last !== undefined && now - last < perChatMs) wait = perChatMs - (now - last);
    if (opts.perSecond > 0) {
      recent = recent.filter((t) => t > now - GLOBAL_WINDOW_MS);
      if (recent.length >= opts.perSecond) wait = Math.max(wait, recent[recent.length - opts.perSecond]! + GLOBAL_WINDOW_MS - now + 1);
    }
    return wait;
  }

  return {
    /** Resolves when a send to chatId keeps both rules, and counts it as sent. */
    async beforeSend(chatId: number | string): Promise<void> {
      const key = String(chatId);
      for (;;) {
        const now = clock();
        const wait = waitFor(key, now);
        if (wait <= 0) {
          recent.push(now);
          lastByChat.set(key, now);
          if (now - lastSweep > 60_000) {
            lastSweep = now;
            for (const [k, t] of lastByChat) if (now - t > perChatMs) lastByChat.delete(k);
          }
          return;
        }
        await sleep(wait);
      }
    },
  };
}

export type SendGuard = ReturnType<typeof createSendGuard>;
