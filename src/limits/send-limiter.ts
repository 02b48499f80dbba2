import { decideSend, emptySendState, finishSend, holdSends, startSend, sweepSendState, type LimitScope, type SendRules } from "./send-rules";

/**
 * The one limiter every outbound send goes through (telegram/api.ts). The decision is taken
 * at the moment of sending: acquire() either counts the send and says go, or counts nothing
 * and says how long to wait. Nothing is booked ahead, so a late wake-up cannot bunch sends.
 * An allowed send holds its slot until done() says its answer came back (send-rules.ts: that
 * is what keeps the limits at Telegram's side, where sends are counted on arrival).
 * Implementations: in process (this file), Redis (redis-send-limiter.ts), and the failover
 * between them (failover.ts).
 */
export interface SendLimiter {
  /** May a send to chatId go now? When ok, the send is counted until its permit is done. Never rejects. */
  acquire(chatId: number | string): Promise<SendGrant>;
  /** Telegram answered 429: nothing to chatId (null: to any chat) for retryAfterMs. */
  hold(chatId: number | string | null, retryAfterMs: number): Promise<void>;
}

/** An allowed send. */
export interface SendPermit {
  /** When it was allowed, on the deciding clock. */
  at: number;
  /**
   * The send is over: answered, failed or timed out. Call it once, as soon as the call returns;
   * never throws. A permit never done stops counting as in flight after SendRules.maxInFlightMs.
   */
  done(): void;
}

export type SendGrant = ({ ok: true } & SendPermit) | { ok: false; waitMs: number; scope: LimitScope };

/**
 * What a limiter knows about the last moments, in durations relative to now (so it means the
 * same on any clock): handed to Redis when it comes back, so sends decided locally meanwhile,
 * or lost with a restarted Redis, still count.
 */
export interface SendHandback {
  /** Chats that may not be sent to yet, and for how much longer. */
  chats: { chatId: string; waitMs: number }[];
  /** How long ago each answered send of the current global window was answered. */
  sendAgesMs: number[];
  /** Sends still in flight: the local permit's id, its chat, and how long ago it was allowed. */
  inFlight: { id: number; chatId: string; ageMs: number }[];
  /** How much longer the whole bot is held by a 429 (0 = not held). */
  holdMs: number;
}

/** A permit of the local limiter: its id names it in a handback. */
export interface LocalSendPermit extends SendPermit {
  id: number;
}

export interface LocalSendLimiter extends SendLimiter {
  acquire(chatId: number | string): Promise<({ ok: true } & LocalSendPermit) | { ok: false; waitMs: number; scope: LimitScope }>;
  /** Counts a send another limiter allowed: the copy kept while Redis decides (see failover.ts). */
  start(chatId: number | string): LocalSendPermit;
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
  const permit = (chatId: number | string, now: number): LocalSendPermit => {
    const id = startSend(state, chatId, now, rules);
    return { id, at: now, done: () => finishSend(state, id, clock(), rules) };
  };

  return {
    async acquire(chatId) {
      const now = clock();
      sweep(now);
      const d = decideSend(state, chatId, now, rules, cap);
      return d.ok ? { ok: true, ...permit(chatId, now) } : d;
    },
    async hold(chatId, retryAfterMs) {
      holdSends(state, chatId, clock() + retryAfterMs);
    },
    start(chatId) {
      const now = clock();
      sweep(now);
      return permit(chatId, now);
    },
    blind() {
      state.blindUntil = Math.max(state.blindUntil, clock());
    },
    setCap(perSecond) {
      cap = perSecond;
    },
    handback() {
      const now = clock();
      sweepSendState(state, now, rules);
      const chats: SendHandback["chats"] = [];
      for (const [chatId, next] of state.chatNext) chats.push({ chatId, waitMs: next - now });
      const sendAgesMs = state.recent.map((t) => Math.max(0, now - t));
      const inFlight = [...state.inFlight].map(([id, s]) => ({ id, chatId: s.chatId, ageMs: Math.max(0, now - s.at) }));
      return { chats, sendAgesMs, inFlight, holdMs: Math.max(0, state.holdUntil - now) };
    },
  };
}
