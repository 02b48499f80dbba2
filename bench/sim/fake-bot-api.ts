/**
 * The soak's Bot API: test/support/fake-bot-api.ts (records every call) plus Telegram's sending
 * limits and random faults, plugged in through its `decide` option.
 *
 * Limits enforced on sends (sendMessage & co.), each with a timing tolerance (default 10 %),
 * because tgwh books a slot at time T but the request arrives here T + a few ms of network and
 * event-loop jitter later; Telegram itself is not exact either:
 * - per chat: two accepted sends to one chat closer than 1000 ms × (1 − tolerance) → 429;
 * - per group (negative chat id): a 21st accepted send within 60 s × (1 − tolerance) → 429;
 * - global: more than perSecond × (1 + tolerance) accepted sends within 1000 ms → 429;
 * - after an injected 429 with retry_after N to a chat, a send to that chat sooner than
 *   N s × (1 − tolerance) → 429 (tgwh ignored retry_after).
 * Every such 429 is a "self-caused" violation (tgwh broke a limit), kept apart from injected ones.
 */
import { startFakeBotApi, type Fault, type FakeBotApi, type RecordedCall } from "../../test/support/fake-bot-api";

export const SEND_METHODS = new Set(["sendMessage", "sendPhoto", "sendDocument", "sendVideo", "sendAnimation", "sendSticker", "copyMessage", "forwardMessage"]);

export interface LimitOptions {
  perChatMs: number;
  perGroupPerMinute: number;
  /** Global accepted sends per second (Telegram: about 30). */
  perSecond: number;
  /** Relative timing tolerance, e.g. 0.1 = 10 %. */
  tolerance: number;
}

export const TELEGRAM_LIMITS: LimitOptions = { perChatMs: 1000, perGroupPerMinute: 20, perSecond: 30, tolerance: 0.1 };

export interface RandomFaults {
  /** Share of sends answered 500. */
  error500: number;
  /** Share of sends that never answer in time (answered 504 after timeoutMs; not delivered). */
  timeout: number;
  timeoutMs: number;
  /** Share of sends answered 403 "bot was blocked by the user". */
  blocked: number;
  /** Share of sends answered slowly (slowMs), but delivered. */
  slow: number;
  slowMs: number;
}

export const NO_FAULTS: RandomFaults = { error500: 0, timeout: 0, timeoutMs: 0, blocked: 0, slow: 0, slowMs: 0 };

export type Violation = { at: number; chatId: string; rule: "chat" | "group" | "global" | "retry_after"; detail: string };

export interface SimBotApi extends FakeBotApi {
  /** Sends answered 200 (delivered to the user), in arrival order. */
  delivered(): RecordedCall[];
  /** 429s tgwh caused itself by breaking a limit. */
  violations: Violation[];
  /** Counts of injected faults by kind. */
  injected: Record<"error500" | "timeout" | "blocked" | "slow" | "burst429", number>;
  /** For the next `ms`, every send gets 429 with retry_after `retryAfter` seconds. */
  burst429(ms: number, retryAfter: number): void;
  setFaults(f: Partial<RandomFaults>): void;
}

export interface SimBotApiOptions {
  limits?: LimitOptions | null;
  faults?: Partial<RandomFaults>;
  random?: () => number;
}

export function startSimBotApi(opts: SimBotApiOptions = {}): SimBotApi {
  const limits = opts.limits === undefined ? TELEGRAM_LIMITS : opts.limits;
  let faults: RandomFaults = { ...NO_FAULTS, ...opts.faults };
  const random = opts.random ?? Math.random;
  const violations: Violation[] = [];
  const injected = { error500: 0, timeout: 0, blocked: 0, slow: 0, burst429: 0 };
  const lastChatSend = new Map<string, number>();
  const groupSends = new Map<string, number[]>();
  const retryUntil = new Map<string, { until: number; seconds: number }>();
  let globalWindow: number[] = [];
  let burstUntil = 0;
  let burstRetryAfter = 1;

  const limit429 = (retryAfter: number, description: string): Fault => ({
    kind: "error",
    code: 429,
    description: `Too Many Requests: ${description}`,
    retryAfter,
  });

  /** The limit this send would break, if any (checked before faults: a violation is tgwh's). */
  function brokenLimit(chatId: string, now: number): Violation | null {
    if (!limits) return null;
    const tol = limits.tolerance;
    const ra = retryUntil.get(chatId);
    if (ra && now < ra.until - ra.seconds * 1000 * tol) {
      return { at: now, chatId, rule: "retry_after", detail: `sent ${ra.until - now} ms before retry_after (${ra.seconds}s) ran out` };
    }
    const last = lastChatSend.get(chatId);
    if (last !== undefined && now - last < limits.perChatMs * (1 - tol)) {
      return { at: now, chatId, rule: "chat", detail: `${now - last} ms after the previous send to this chat` };
    }
    if (chatId.startsWith("-")) {
      const win = (groupSends.get(chatId) ?? []).filter((t) => t > now - 60_000 * (1 - tol));
      groupSends.set(chatId, win);
      if (win.length >= limits.perGroupPerMinute) return { at: now, chatId, rule: "group", detail: `${win.length + 1} sends within ${Math.round(60 * (1 - tol))} s` };
    }
    globalWindow = globalWindow.filter((t) => t > now - 1000);
    if (globalWindow.length >= Math.floor(limits.perSecond * (1 + tol))) {
      return { at: now, chatId, rule: "global", detail: `${globalWindow.length + 1} sends within 1 s` };
    }
    return null;
  }

  function accept(chatId: string, now: number) {
    lastChatSend.set(chatId, now);
    if (chatId.startsWith("-")) groupSends.get(chatId)?.push(now) ?? groupSends.set(chatId, [now]);
    globalWindow.push(now);
  }

  function decide(call: RecordedCall): Fault | null {
    if (!SEND_METHODS.has(call.method)) return null;
    const chatId = String(call.payload.chat_id);
    const now = call.at;
    const broken = brokenLimit(chatId, now);
    if (broken) {
      violations.push(broken);
      return limit429(Math.max(1, Math.ceil((limits?.perChatMs ?? 1000) / 1000)), `limit '${broken.rule}' broken: ${broken.detail}`);
    }
    if (now < burstUntil) {
      injected.burst429++;
      retryUntil.set(chatId, { until: now + burstRetryAfter * 1000, seconds: burstRetryAfter });
      return limit429(burstRetryAfter, `retry after ${burstRetryAfter} (injected burst)`);
    }
    const r = random();
    let edge = faults.error500;
    if (r < edge) {
      injected.error500++;
      return { kind: "error", code: 500, description: "Internal Server Error (injected)" };
    }
    if (r < (edge += faults.timeout)) {
      injected.timeout++;
      return { kind: "error", code: 504, description: "Gateway Timeout (injected; the client should have given up)", afterMs: faults.timeoutMs };
    }
    if (r < (edge += faults.blocked)) {
      injected.blocked++;
      return { kind: "error", code: 403, description: "Forbidden: bot was blocked by the user (injected)" };
    }
    accept(chatId, now);
    if (r < (edge += faults.slow)) {
      injected.slow++;
      return { kind: "delay", ms: faults.slowMs };
    }
    return null;
  }

  const api = startFakeBotApi({ decide });
  return Object.assign(api, {
    violations,
    injected,
    delivered: () => api.calls.filter((c) => SEND_METHODS.has(c.method) && c.status === 200),
    burst429(ms: number, retryAfter: number) {
      burstUntil = Date.now() + ms;
      burstRetryAfter = retryAfter;
    },
    setFaults(f: Partial<RandomFaults>) {
      faults = { ...faults, ...f };
    },
  });
}
