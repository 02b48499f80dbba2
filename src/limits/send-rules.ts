/**
 * Telegram's sending rules as one pure decision, taken at the moment of sending: the local
 * limiter runs it in process, the Redis scripts (redis-send-limiter.ts) run the same steps
 * atomically for all gateways. Tested alone (test/unit/send-rules.test.ts).
 *
 * - at most `perSecond` sends in any GLOBAL_WINDOW_MS (0 = no global cap);
 * - one send per CHAT_INTERVAL_MS to a private chat, one per GROUP_INTERVAL_MS to a group
 *   (20 a minute, spread out rather than in a burst: Telegram slows a group that bursts);
 * - after a 429 the chat (or the whole bot) is held until its retry_after has passed.
 *
 * Telegram counts a send when it arrives, and that is somewhere between our decision and the
 * moment its answer comes back: an event-loop stall, a starved CPU or a slow network can delay
 * it by hundreds of milliseconds after the decision (the chaos soak measured up to ~400 ms
 * under load), so sends decided more than a window apart could still arrive within one second.
 * So a send is counted from its decision until its answer (startSend … finishSend): while in
 * flight it fills a slot of every window, and once answered it counts as a send of that moment.
 * Then any N+1 sends that arrive within one window include one decided while the N others were
 * in flight or answered less than a window before: the decision refused it. The same holds for
 * a chat's interval, counted from the answer of its previous send.
 */

/** Telegram's second: exact at arrival, because a send holds its slot until its answer. */
export const GLOBAL_WINDOW_MS = 1000;
export const CHAT_INTERVAL_MS = 1000;
/** 60 s / 20 messages. */
export const GROUP_INTERVAL_MS = 3000;
/**
 * Longest a send is counted as in flight without an answer (the default; the service passes its
 * Bot API timeout): a send whose answer never comes back (a lost permit, a gateway killed while
 * sending) stops filling a slot after this and counts as answered then.
 */
export const MAX_IN_FLIGHT_MS = 31_000;

export interface SendRules {
  /** Sends allowed in any globalWindowMs; 0 = no global cap (paid broadcasts, tests). */
  perSecond: number;
  globalWindowMs: number;
  chatIntervalMs: number;
  groupIntervalMs: number;
  maxInFlightMs: number;
}

export function sendRules(perSecond: number, maxInFlightMs = MAX_IN_FLIGHT_MS): SendRules {
  return { perSecond, globalWindowMs: GLOBAL_WINDOW_MS, chatIntervalMs: CHAT_INTERVAL_MS, groupIntervalMs: GROUP_INTERVAL_MS, maxInFlightMs };
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
  /** When each answered send of the current global window was answered, oldest first. */
  recent: number[];
  /** Sends decided and not answered yet: id → chat and decision time. */
  inFlight: Map<number, { chatId: string; at: number }>;
  nextId: number;
  /** No send to any chat before this (a 429 that held the whole bot). */
  holdUntil: number;
  /**
   * Sends this limiter cannot see may have happened up to this moment (a previous process
   * before a restart, other gateways before Redis went away): a chat it has not seen waits one
   * interval from here, and the global window counts as full until one window after it.
   */
  blindUntil: number;
}

export const emptySendState = (): SendState => ({ chatNext: new Map(), recent: [], inFlight: new Map(), nextId: 1, holdUntil: 0, blindUntil: 0 });

/** Drops answered sends that left the window; in-flight sends past maxInFlightMs count as answered then. */
function expire(state: SendState, now: number, rules: SendRules): void {
  for (const [id, s] of state.inFlight) {
    if (s.at + rules.maxInFlightMs > now) continue;
    state.inFlight.delete(id);
    insertSorted(state.recent, s.at + rules.maxInFlightMs);
  }
  let drop = 0;
  while (drop < state.recent.length && state.recent[drop]! <= now - rules.globalWindowMs) drop++;
  if (drop > 0) state.recent.splice(0, drop);
}

function insertSorted(list: number[], t: number): void {
  let i = list.length;
  while (i > 0 && list[i - 1]! > t) i--;
  list.splice(i, 0, t);
}

/**
 * May a send to chatId go at `now` under a global cap of `cap` (the rules' perSecond, or a
 * fallback share of it)? Changes nothing but forgetting sends that left the window.
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
    expire(state, now, rules);
    if (state.blindUntil > 0) take(state.blindUntil + rules.globalWindowMs - now, "global");
    const n = state.recent.length + state.inFlight.size;
    if (n >= cap) {
      // The (n - cap + 1)th send to leave frees the slot: an answered one a window after its
      // answer; one still in flight a window after an answer that comes now at the earliest.
      const k = n - cap;
      const answeredAt = k < state.recent.length ? state.recent[k]! : now;
      take(answeredAt + rules.globalWindowMs - now, "global");
    }
  }
  return wait > 0 ? { ok: false, waitMs: Math.ceil(wait), scope } : { ok: true, at: now };
}

/**
 * Counts a send that decideSend allowed (or that another limiter decided, for the shadow copy):
 * in flight from `now` until finishSend. Returns its id.
 */
export function startSend(state: SendState, chatId: number | string, now: number, rules: SendRules): number {
  const key = String(chatId);
  state.chatNext.set(key, Math.max(state.chatNext.get(key) ?? 0, now + intervalFor(chatId, rules)));
  const id = state.nextId++;
  state.inFlight.set(id, { chatId: key, at: now });
  return id;
}

/** The send's answer came back (or it failed) at `now`: from here it counts as a send of this moment. Once per id. */
export function finishSend(state: SendState, id: number, now: number, rules: SendRules): void {
  const s = state.inFlight.get(id);
  if (!s) return; // already counted as answered (maxInFlightMs passed)
  state.inFlight.delete(id);
  state.chatNext.set(s.chatId, Math.max(state.chatNext.get(s.chatId) ?? 0, now + intervalFor(s.chatId, rules)));
  if (rules.perSecond > 0) insertSorted(state.recent, Math.max(now, s.at));
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

/** How long a blind mark matters: the longest of a chat's interval, a group's and the global window. */
export const blindSpanMs = (rules: SendRules) => Math.max(rules.chatIntervalMs, rules.groupIntervalMs, rules.globalWindowMs);

/** Forgets chats whose next send is already allowed, so the map only holds chats that wait. */
export function sweepSendState(state: SendState, now: number, rules: SendRules): void {
  for (const [k, t] of state.chatNext) if (t <= now) state.chatNext.delete(k);
  expire(state, now, rules);
  if (state.blindUntil > 0 && state.blindUntil + blindSpanMs(rules) <= now) state.blindUntil = 0;
}
