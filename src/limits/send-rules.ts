/**
 * Telegram's sending rules as one pure decision, taken at the moment of sending: the local
 * limiter runs it in process, the Redis script (redis-send-limiter.ts) runs the same steps
 * atomically for all gateways. Tested alone (test/unit/send-rules.test.ts).
 *
 * - at most `perSecond` sends in any GLOBAL_WINDOW_MS (0 = no global cap);
 * - one send per CHAT_INTERVAL_MS to a private chat, one per GROUP_INTERVAL_MS to a group
 *   (20 a minute, spread out rather than in a burst: Telegram slows a group that bursts);
 * - after a 429 the chat (or the whole bot) is held until its retry_after has passed.
 */

/**
 * The global window is 10 % longer than Telegram's second. A send is decided here, then still
 * crosses the event loop, the network and Telegram's front end before Telegram counts it: the
 * 30-minute chaos soak saw that jitter squeeze 34 sends into one of Telegram's seconds with a
 * 1000 ms window. Costs about 9 % of the global rate (27.3 instead of 30 a second).
 */
export const GLOBAL_WINDOW_MS = 1100;
export const CHAT_INTERVAL_MS = 1000;
/** 60 s / 20 messages. */
export const GROUP_INTERVAL_MS = 3000;

export interface SendRules {
  /** Sends allowed in any globalWindowMs; 0 = no global cap (paid broadcasts, tests). */
  perSecond: number;
  globalWindowMs: number;
  chatIntervalMs: number;
  groupIntervalMs: number;
}

export function sendRules(perSecond: number): SendRules {
  return { perSecond, globalWindowMs: GLOBAL_WINDOW_MS, chatIntervalMs: CHAT_INTERVAL_MS, groupIntervalMs: GROUP_INTERVAL_MS };
}

/** What made a send wait: the chat's or group's interval, the global cap, or a 429 hold on the whole bot. */
export type LimitScope = "chat" | "group" | "global" | "hold";
export const LIMIT_SCOPES: readonly LimitScope[] = ["chat", "group", "global", "hold"];

/** `at`: when the decision was taken, on the deciding clock (Redis TIME for the shared limiter). */
export type SendDecision = { ok: true; at: number } | { ok: false; waitMs: number; scope: LimitScope };

/** Groups and supergroups have negative ids; channels too ("-100…"), and they share the group limit. */
export const isGroupChat = (chatId: number | string) => (typeof chatId === "number" ? chatId < 0 : chatId.startsWith("-"));

export const intervalFor = (chatId: number | string, rules: SendRules) => (isGroupChat(chatId) ? rules.groupIntervalMs : rules.chatIntervalMs);

/** What one limiter knows. Times are milliseconds on the limiter's clock. */
export interface SendState {
  /** Per chat: no send before this (its interval after the last send, or a 429's retry_after). */
  chatNext: Map<string, number>;
  /** Times of the sends in the current global window, oldest first. */
  recent: number[];
  /** No send to any chat before this (a 429 that held the whole bot). */
  holdUntil: number;
  /**
   * Sends this limiter cannot see may have happened up to this moment (a previous process
   * before a restart, other gateways before Redis went away): a chat it has not seen waits one
   * interval from here, and the global window counts as full until one window after it.
   */
  blindUntil: number;
}

export const emptySendState = (): SendState => ({ chatNext: new Map(), recent: [], holdUntil: 0, blindUntil: 0 });

/**
 * May a send to chatId go at `now` under a global cap of `cap` (the rules' perSecond, or a
 * fallback share of it)? Changes nothing but dropping sends that left the window.
 */
export function decideSend(state: SendState, chatId: number | string, now: number, rules: SendRules, cap = rules.perSecond): SendDecision {
  let wait = 0;
  let scope: LimitScope = "chat";
  const take = (ms: number, s: LimitScope) => {
    if (ms > wait) {
      wait = ms;
      scope = s;
    }
  };
  take(state.holdUntil - now, "hold");
  const interval = intervalFor(chatId, rules);
  const chatScope: LimitScope = isGroupChat(chatId) ? "group" : "chat";
  const next = state.chatNext.get(String(chatId));
  const blindNext = state.blindUntil > 0 ? state.blindUntil + interval : 0;
  take(Math.max(next ?? 0, blindNext) - now, chatScope);
  if (cap > 0) {
    const from = now - rules.globalWindowMs;
    let drop = 0;
    while (drop < state.recent.length && state.recent[drop]! <= from) drop++;
    if (drop > 0) state.recent.splice(0, drop);
    if (state.blindUntil > 0) take(state.blindUntil + rules.globalWindowMs - now, "global");
    const n = state.recent.length;
    if (n >= cap) take(state.recent[n - cap]! + rules.globalWindowMs - now, "global");
  }
  return wait > 0 ? { ok: false, waitMs: Math.ceil(wait), scope } : { ok: true, at: now };
}

/** Counts a send that decideSend allowed (or that another limiter decided, for the shadow copy). */
export function recordSend(state: SendState, chatId: number | string, now: number, rules: SendRules): void {
  const key = String(chatId);
  state.chatNext.set(key, Math.max(state.chatNext.get(key) ?? 0, now + intervalFor(chatId, rules)));
  if (rules.perSecond <= 0) return;
  let drop = 0;
  while (drop < state.recent.length && state.recent[drop]! <= now - rules.globalWindowMs) drop++;
  if (drop > 0) state.recent.splice(0, drop);
  // Kept sorted: a shadow record of a shared decision can arrive slightly out of order.
  let i = state.recent.length;
  while (i > 0 && state.recent[i - 1]! > now) i--;
  state.recent.splice(i, 0, now);
}

/** A 429: hold the chat, or with chatId null the whole bot, until `until`. */
export function holdSends(state: SendState, chatId: number | string | null, until: number): void {
  if (chatId === null) {
    state.holdUntil = Math.max(state.holdUntil, until);
    return;
  }
  const key = String(chatId);
  state.chatNext.set(key, Math.max(state.chatNext.get(key) ?? 0, until));
}

/** Forgets chats whose next send is already allowed, so the map only holds chats that wait. */
export function sweepSendState(state: SendState, now: number, rules: SendRules): void {
  for (const [k, t] of state.chatNext) if (t <= now) state.chatNext.delete(k);
  const blindFor = Math.max(rules.chatIntervalMs, rules.groupIntervalMs, rules.globalWindowMs);
  if (state.blindUntil > 0 && state.blindUntil + blindFor <= now) state.blindUntil = 0;
}
