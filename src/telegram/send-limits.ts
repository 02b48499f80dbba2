/**
 * Telegram's sending limits as a reservation schedule: about 30 messages/s overall (configurable,
 * 0 = no global cap), 1/s per chat, 20/min per group. reserve() books the earliest slot that
 * satisfies all three at once and returns how long to wait for it. Pure apart from the clock.
 * Behind this interface so a Redis-backed limiter can replace it when several gateways share limits.
 */
export type LimitScope = "none" | "global" | "chat" | "group";

export interface SendLimiter {
  /**
   * Books the earliest slot for a send to chatId if it is at most maxWaitMs away and returns the
   * wait; otherwise books nothing and returns booked=false with how long until a slot frees up.
   */
  reserve(chatId: number | string, maxWaitMs: number): { booked: boolean; waitMs: number; scope: LimitScope };
  /**
   * Telegram answered 429 with retry_after for this chat: no slot for it before `until`. Without
   * it, another job for the same chat (a notification beside a reply) sent inside the wait.
   */
  holdChat?(chatId: number | string, until: number): void;
}

export interface SendLimitOptions {
  perSecond: number;
  perChatIntervalMs?: number;
  perGroupPerMinute?: number;
  clock?: () => number;
  /**
   * Assume a previous process may have sent right up to the moment this limiter was created (a
   * restart after kill -9 or a deploy): each chat's first slot is then one interval later and
   * nothing goes out during the first global window. Without it, a job re-run after a crash sent
   * its message again within the chat's 1 s and got a 429 (found by the chaos soak).
   */
  warmStart?: boolean;
}

/** Groups and supergroups have negative ids; channels too ("-100…"), and they share the group limit. */
export const isGroupChat = (chatId: number | string) => (typeof chatId === "number" ? chatId < 0 : chatId.startsWith("-"));

export function createSendLimiter(opts: SendLimitOptions): SendLimiter {
  const clock = opts.clock ?? Date.now;
  const globalInterval = opts.perSecond > 0 ? 1000 / opts.perSecond : 0;
  const chatInterval = opts.perChatIntervalMs ?? 1000;
  const groupInterval = 60_000 / (opts.perGroupPerMinute ?? 20);
  const createdAt = clock();
  const warm = opts.warmStart ?? false;
  // A group's first slot waits one group interval, a private chat's one chat interval.
  const firstSlot = (chatId: number | string) => (warm ? createdAt + (isGroupChat(chatId) ? groupInterval : chatInterval) : 0);
  const globalFrom = warm && globalInterval > 0 ? createdAt + 1000 : 0;
  // Booked global slot times, sorted. A chat-limited booking in the future must not block the
  // free slots before it, so the global cap is a set of slots, not a single "next" time.
  let globalSlots: number[] = [];
  const chatNext = new Map<string, number>();
  let lastSweep = 0;

  // Forget chats whose next slot is long past so the map stays small.
  function sweep(now: number) {
    if (now - lastSweep < 60_000) return;
    lastSweep = now;
    for (const [k, t] of chatNext) if (t < now) chatNext.delete(k);
  }

  /** The earliest t >= from that keeps globalInterval away from every booked slot. */
  function earliestGlobal(from: number): number {
    let t = from;
    for (const s of globalSlots) {
      if (s + globalInterval <= t) continue;
      if (s - globalInterval >= t) break;
      t = s + globalInterval;
    }
    return t;
  }

  function slotFor(chatId: number | string, now: number) {
    const chat = chatNext.get(String(chatId)) ?? firstSlot(chatId);
    let at = now;
    let scope: LimitScope = "none";
    if (chat > at) {
      at = chat;
      scope = isGroupChat(chatId) ? "group" : "chat";
    }
    if (globalInterval > 0) {
      const g = earliestGlobal(Math.max(at, globalFrom));
      if (g > at) scope = "global";
      at = g;
    }
    return { at, scope };
  }

  return {
    reserve(chatId, maxWaitMs) {
      const now = clock();
      sweep(now);
      const { at, scope } = slotFor(chatId, now);
      const waitMs = Math.max(0, Math.ceil(at - now));
      if (waitMs > maxWaitMs) return { booked: false, waitMs, scope };
      if (globalInterval > 0) {
        globalSlots = globalSlots.filter((x) => x > now - globalInterval);
        const i = globalSlots.findIndex((x) => x > at);
        globalSlots.splice(i === -1 ? globalSlots.length : i, 0, at);
      }
      chatNext.set(String(chatId), at + (isGroupChat(chatId) ? groupInterval : chatInterval));
      return { booked: true, waitMs, scope };
    },
    holdChat(chatId, until) {
      const key = String(chatId);
      chatNext.set(key, Math.max(chatNext.get(key) ?? 0, until));
    },
  };
}
