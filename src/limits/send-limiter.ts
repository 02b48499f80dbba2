import { decideSend, emptySendState, holdSends, recordSend, sweepSendState, type SendDecision, type SendRules } from "./send-rules";

/**
 * The one limiter every outbound send goes through (telegram/api.ts). The decision is taken
 * at the moment of sending: acquire() either counts the send and says go, or counts nothing
 * and says how long to wait. Nothing is booked ahead, so a late wake-up cannot bunch sends.
 * Implementations: in process (this file), Redis (redis-send-limiter.ts), and the failover
 * between them (failover.ts).
 */
export interface SendLimiter {
  /** May a send to chatId go now? When ok, the send is counted. Never rejects. */
  acquire(chatId: number | string): Promise<SendDecision>;
  /** Telegram answered 429: nothing to chatId (null: to any chat) for retryAfterMs. */
  hold(chatId: number | string | null, retryAfterMs: number): Promise<void>;
}

/**
 * What a limiter knows about the last moments, in durations relative to now (so it means the
 * same on any clock): handed to Redis when it comes back, so sends decided locally meanwhile,
 * or lost with a restarted Redis, still count.
 */
export interface SendHandback {
  /** Chats that may not be sent to yet, and for how much longer. */
  chats: { chatId: string; waitMs: number }[];
  /** How long ago each send of the current global window went. */
  sendAgesMs: number[];
  /** How much longer the whole bot is held by a 429 (0 = not held). */
  holdMs: number;
}

export interface LocalSendLimiter extends SendLimiter {
  /** Counts a send another limiter allowed: the copy kept while Redis decides (see failover.ts). */
  record(chatId: number | string, at?: number): void;
  /** Sends this limiter cannot see may have gone until now: start cautious (SendState.blindUntil). */
  blind(): void;
  /** The global cap for this limiter's own decisions: the full cap alone, a share when falling back. */
  setCap(perSecond: number): void;
  handback(): SendHandback;
}

export interface LocalSendLimiterOptions {
  rules: SendRules;
  clock: () => number;
  /**
   * Start blind: a previous process may have sent right up to this one's start (a restart after
   * kill -9 or a deploy). Without it, a job re-run after a crash sent its message again within
   * the chat's second and got a 429 (found by the chaos soak).
   */
  blindAtStart?: boolean;
}

export function createLocalSendLimiter(opts: LocalSendLimiterOptions): LocalSendLimiter {
  const { rules, clock } = opts;
  const state = emptySendState();
  let cap = rules.perSecond;
  let lastSweep = clock();
  if (opts.blindAtStart) state.blindUntil = clock();

  const sweep = (now: number) => {
    if (now - lastSweep < 60_000) return;
    lastSweep = now;
    sweepSendState(state, now, rules);
  };

  return {
    async acquire(chatId) {
      const now = clock();
      sweep(now);
      const d = decideSend(state, chatId, now, rules, cap);
      if (d.ok) recordSend(state, chatId, now, rules);
      return d;
    },
    async hold(chatId, retryAfterMs) {
      holdSends(state, chatId, clock() + retryAfterMs);
    },
    record(chatId, at) {
      const now = at ?? clock();
      sweep(now);
      recordSend(state, chatId, now, rules);
    },
    blind() {
      state.blindUntil = Math.max(state.blindUntil, clock());
    },
    setCap(perSecond) {
      cap = perSecond;
    },
    handback() {
      const now = clock();
      const chats: SendHandback["chats"] = [];
      for (const [chatId, next] of state.chatNext) if (next > now) chats.push({ chatId, waitMs: next - now });
      const sendAgesMs = state.recent.filter((t) => t > now - rules.globalWindowMs).map((t) => Math.max(0, now - t));
      return { chats, sendAgesMs, holdMs: Math.max(0, state.holdUntil - now) };
    },
  };
}
