import { describe, expect, test } from "bun:test";
import { ASSUMED_GATEWAYS, countAfterHeartbeat, fallbackShare, GATEWAY_TTL_MS, probeDelayMs, unknownGatewayCount } from "../../src/limits/fallback-policy";
import { createRetryAfterPolicy } from "../../src/limits/retry-after";
import { decideSend, emptySendState, finishSend, holdSends, sendRules, startSend, sweepSendState, type SendState } from "../../src/limits/send-rules";

/** decide + start, as a limiter does, and the answer `answerAfter` ms later (0: at once). */
function send(state: SendState, chat: number | string, now: number, perSecond: number, cap = perSecond, answerAfter = 0) {
  const d = decideSend(state, chat, now, sendRules(perSecond), cap);
  if (d.ok) finishSend(state, startSend(state, chat, now, sendRules(perSecond)), now + answerAfter, sendRules(perSecond));
  return d;
}

describe("send rules (pure)", () => {
  test("a private chat: one send per second; other chats go meanwhile", () => {
    const s = emptySendState();
    expect(send(s, 1, 1000, 0)).toEqual({ ok: true, at: 1000 });
    expect(send(s, 1, 1400, 0)).toEqual({ ok: false, waitMs: 600, scope: "chat" });
    expect(send(s, 2, 1400, 0).ok).toBe(true);
    expect(send(s, 1, 2000, 0).ok).toBe(true);
  });

  test("a group (negative id, or '-100…' string): 20 a minute, 3 s apart", () => {
    const s = emptySendState();
    send(s, -100, 0, 0);
    expect(send(s, -100, 1000, 0)).toEqual({ ok: false, waitMs: 2000, scope: "group" });
    send(s, "-1001234", 0, 0);
    expect(send(s, "-1001234", 2999, 0)).toEqual({ ok: false, waitMs: 1, scope: "group" });
  });

  test("global cap: at most N sends in any 1000 ms window", () => {
    const s = emptySendState();
    for (const chat of [1, 2, 3]) expect(send(s, chat, 10_000, 3).ok).toBe(true);
    expect(send(s, 4, 10_000, 3)).toEqual({ ok: false, waitMs: 1000, scope: "global" });
    expect(send(s, 4, 10_999, 3)).toEqual({ ok: false, waitMs: 1, scope: "global" });
    expect(send(s, 4, 11_000, 3).ok).toBe(true);
  });

  test("a send fills its slot from its decision until its answer, then for one window from the answer", () => {
    const rules = sendRules(2);
    const s = emptySendState();
    const first = startSend(s, 1, 0, rules);
    expect(decideSend(s, 2, 0, rules).ok).toBe(true);
    startSend(s, 2, 0, rules); // in flight for good: never answered here
    // Both still in flight 5 s later: the next waits at least a window (an answer may come now).
    expect(decideSend(s, 3, 5000, rules)).toEqual({ ok: false, waitMs: 1000, scope: "global" });
    finishSend(s, first, 5200, rules);
    expect(decideSend(s, 3, 5300, rules)).toEqual({ ok: false, waitMs: 900, scope: "global" });
    expect(decideSend(s, 3, 6200, rules).ok).toBe(true);
    finishSend(s, first, 6300, rules); // a second done() changes nothing
    expect(s.recent).toEqual([]);
    expect([...s.inFlight.values()]).toEqual([{ chatId: "2", at: 0 }]);
  });

  test("a chat waits its interval from the answer of its previous send", () => {
    const rules = sendRules(0);
    const s = emptySendState();
    const id = startSend(s, 7, 0, rules);
    finishSend(s, id, 400, rules); // the send took 400 ms to be answered
    expect(decideSend(s, 7, 1000, rules)).toEqual({ ok: false, waitMs: 400, scope: "chat" });
    expect(decideSend(s, 7, 1400, rules).ok).toBe(true);
    const g = startSend(s, -5, 0, rules);
    finishSend(s, g, 100, rules);
    expect(decideSend(s, -5, 3000, rules)).toEqual({ ok: false, waitMs: 100, scope: "group" });
  });

  test("a send never answered stops filling its slot after maxInFlightMs, and counts as answered then", () => {
    const rules = sendRules(1, 5000);
    const s = emptySendState();
    startSend(s, 1, 0, rules);
    expect(decideSend(s, 2, 4999, rules)).toEqual({ ok: false, waitMs: 1000, scope: "global" });
    expect(decideSend(s, 2, 5000, rules)).toEqual({ ok: false, waitMs: 1000, scope: "global" });
    expect(s.inFlight.size).toBe(0);
    expect(decideSend(s, 2, 6000, rules).ok).toBe(true);
  });

  test("a refused decision counts nothing", () => {
    const s = emptySendState();
    send(s, 1, 0, 1);
    for (let i = 0; i < 5; i++) expect(send(s, 2, 10, 1).ok).toBe(false);
    expect(s.recent).toEqual([0]);
    expect(s.inFlight.size).toBe(0);
    expect(send(s, 2, 1000, 1).ok).toBe(true);
  });

  test("the cap argument (a fallback share) overrides perSecond for the decision", () => {
    const s = emptySendState();
    expect(send(s, 1, 0, 30, 1).ok).toBe(true);
    expect(send(s, 2, 0, 30, 1)).toEqual({ ok: false, waitMs: 1000, scope: "global" });
  });

  test("holds: a chat until its retry_after; the whole bot with chatId null", () => {
    const s = emptySendState();
    holdSends(s, 7, 5000);
    expect(send(s, 7, 1000, 0)).toEqual({ ok: false, waitMs: 4000, scope: "chat" });
    expect(send(s, 8, 1000, 0).ok).toBe(true);
    holdSends(s, null, 3000);
    expect(send(s, 9, 1000, 0)).toEqual({ ok: false, waitMs: 2000, scope: "hold" });
    expect(send(s, 9, 3000, 0).ok).toBe(true);
    holdSends(s, 7, 4000); // a shorter hold never shortens a longer one
    expect(send(s, 7, 4500, 0)).toEqual({ ok: false, waitMs: 500, scope: "chat" });
  });

  test("blind (after a restart, or when Redis went away): each chat waits one interval, the global window one window", () => {
    const s = emptySendState();
    send(s, 1, 0, 30); // known: next at 1000
    s.blindUntil = 500;
    expect(send(s, 1, 600, 30)).toEqual({ ok: false, waitMs: 900, scope: "chat" });
    expect(send(s, 2, 1499, 30)).toEqual({ ok: false, waitMs: 1, scope: "chat" });
    expect(send(s, 2, 1500, 30).ok).toBe(true);
    expect(send(s, -5, 1500, 30)).toEqual({ ok: false, waitMs: 2000, scope: "group" });
    const shortChats = { ...sendRules(30), chatIntervalMs: 200 };
    const blind = emptySendState();
    blind.blindUntil = 500;
    expect(decideSend(blind, 3, 800, shortChats)).toEqual({ ok: false, waitMs: 700, scope: "global" });
    const quiet = emptySendState();
    quiet.blindUntil = 500;
    expect(send(quiet, 3, 700, 0)).toEqual({ ok: false, waitMs: 800, scope: "chat" }); // no global cap: only the chat waits
  });

  test("never more than N sends in any window, whatever the arrival pattern", () => {
    const s = emptySendState();
    const granted: number[] = [];
    let now = 0;
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 5000; i++) {
      now += Math.floor(rnd() * 20);
      if (send(s, Math.floor(rnd() * 500), now, 30).ok) granted.push(now);
    }
    expect(granted.length).toBeGreaterThan(300);
    for (let i = 30; i < granted.length; i++) expect(granted[i]! - granted[i - 30]!).toBeGreaterThanOrEqual(1000);
  });

  test("counted at arrival: sends stalled on their way still never exceed the cap, or a chat's interval, where Telegram counts them", () => {
    const counted = simulateStalledSends({ holdUntilAnswer: true });
    expect(counted.sends).toBeGreaterThan(1500); // 60 s pressing on a cap of 30
    expect(counted.globalOver).toEqual([]);
    expect(counted.chatTooSoon).toEqual([]);
    // The control: counting a send only at its decision (the limiter before it held slots until
    // the answer) lets the same stalls bunch sends at arrival; this is what the chaos soak saw.
    const atDecision = simulateStalledSends({ holdUntilAnswer: false });
    expect(atDecision.globalOver.length).toBeGreaterThan(0);
    expect(atDecision.chatTooSoon.length).toBeGreaterThan(0);
  });

  test("sweep forgets chats that may send again, and the blind mark once it no longer matters", () => {
    const s = emptySendState();
    send(s, 1, 0, 0);
    send(s, -2, 0, 0);
    s.blindUntil = 10;
    sweepSendState(s, 1500, sendRules(0));
    expect([...s.chatNext.keys()]).toEqual(["-2"]);
    sweepSendState(s, 3010, sendRules(0));
    expect(s.chatNext.size).toBe(0);
    expect(s.blindUntil).toBe(0);
  });
});

/**
 * 16 workers send for 60 s of simulated time under a cap of 30, each to its own chat at a time (as
 * the worker runs one chat's jobs one at a time), through the pure rules. Between a decision and
 * the send's arrival at Telegram: a few ms, but 1 in 10 sends is stalled 100–700 ms (an
 * event-loop stall, a starved CPU); its answer comes 1–30 ms after it arrived. Returns where
 * the arrivals broke Telegram's limits: more than 30 in a second, a chat twice within its second.
 */
function simulateStalledSends(opts: { holdUntilAnswer: boolean }) {
  const rules = sendRules(30);
  const s = emptySendState();
  let seed = 11;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const arrivals: { at: number; chat: number }[] = [];
  const busy = new Set<number>();
  const pickChat = () => {
    for (;;) {
      const chat = 1 + Math.floor(rnd() * 200);
      if (!busy.has(chat)) return chat;
    }
  };
  type Worker = { t: number; chat: number; answer?: { id: number } };
  const workers: Worker[] = Array.from({ length: 16 }, () => ({ t: 0, chat: 0 }));
  for (const w of workers) busy.add((w.chat = pickChat()));
  for (;;) {
    const w = workers.reduce((a, b) => (b.t < a.t ? b : a));
    if (w.t > 60_000) break;
    if (w.answer) {
      if (opts.holdUntilAnswer) finishSend(s, w.answer.id, w.t, rules);
      w.answer = undefined;
      busy.delete(w.chat);
      busy.add((w.chat = pickChat()));
      continue;
    }
    const d = decideSend(s, w.chat, w.t, rules);
    if (!d.ok) {
      w.t += d.waitMs;
      continue;
    }
    const id = startSend(s, w.chat, w.t, rules);
    if (!opts.holdUntilAnswer) finishSend(s, id, w.t, rules); // counted at the decision only
    const arrival = w.t + (rnd() < 0.1 ? 100 + rnd() * 600 : rnd() * 5);
    arrivals.push({ at: arrival, chat: w.chat });
    w.answer = { id };
    w.t = arrival + 1 + rnd() * 29;
  }
  arrivals.sort((a, b) => a.at - b.at);
  const globalOver: number[] = [];
  for (let i = 30; i < arrivals.length; i++) if (arrivals[i]!.at - arrivals[i - 30]!.at < 1000) globalOver.push(arrivals[i]!.at);
  const chatTooSoon: { chat: number; gapMs: number }[] = [];
  const last = new Map<number, number>();
  for (const a of arrivals) {
    const prev = last.get(a.chat);
    if (prev !== undefined && a.at - prev < 1000) chatTooSoon.push({ chat: a.chat, gapMs: a.at - prev });
    last.set(a.chat, a.at);
  }
  return { sends: arrivals.length, globalOver, chatTooSoon };
}

describe("whom a 429 holds", () => {
  test("one chat: that chat; a second chat within a second: the bot too; no chat: the bot", () => {
    let now = 0;
    const p = createRetryAfterPolicy(() => now);
    expect(p.targets(1)).toEqual([{ chatId: 1 }]);
    now = 500;
    expect(p.targets(1)).toEqual([{ chatId: 1 }]); // the same chat again is not a flood
    now = 900;
    expect(p.targets(2)).toEqual([{ chatId: 2 }, { chatId: null }]);
    now = 5000;
    expect(p.targets(3)).toEqual([{ chatId: 3 }]);
    expect(p.targets(undefined)).toEqual([{ chatId: null }]);
  });
});

describe("fallback policy", () => {
  test("each gateway takes an equal share; 0 (no cap) stays 0; never under 1", () => {
    expect(fallbackShare(30, 3)).toBe(10);
    expect(fallbackShare(30, 4)).toBe(7);
    expect(fallbackShare(30, 1)).toBe(30);
    expect(fallbackShare(30, null)).toBe(Math.floor(30 / ASSUMED_GATEWAYS));
    expect(fallbackShare(0, 3)).toBe(0);
    expect(fallbackShare(2, 5)).toBe(1);
  });
  test("the gateway count: exact while this gateway stays in Redis's set; when the set was lost, never below the last count for one TTL", () => {
    let c = unknownGatewayCount();
    c = countAfterHeartbeat(c, { gateways: 1, joined: true }, 0); // first beat ever: alone so far
    expect(c.gateways).toBe(1);
    c = countAfterHeartbeat(c, { gateways: 2, joined: false }, 5000);
    expect(c.gateways).toBe(2);
    c = countAfterHeartbeat(c, { gateways: 1, joined: false }, 10_000); // the other stopped cleanly: at once
    expect(c.gateways).toBe(1);
    c = countAfterHeartbeat(c, { gateways: 2, joined: false }, 15_000);
    // Redis restarted empty (this gateway is missing from the set): back first, it still counts the other.
    c = countAfterHeartbeat(c, { gateways: 1, joined: true }, 40_000);
    expect(c.gateways).toBe(2);
    c = countAfterHeartbeat(c, { gateways: 1, joined: false }, 40_000 + GATEWAY_TTL_MS - 1);
    expect(c.gateways).toBe(2);
    c = countAfterHeartbeat(c, { gateways: 3, joined: false }, 40_000 + GATEWAY_TTL_MS - 1); // more came back than before
    expect(c.gateways).toBe(3);
    c = countAfterHeartbeat(c, { gateways: 1, joined: false }, 40_000 + GATEWAY_TTL_MS); // a TTL on, absent ones are gone
    expect(c.gateways).toBe(1);
  });

  test("probes back off from 0.5 s to 10 s, with jitter", () => {
    expect([0, 1, 2, 3, 4, 5, 20].map((a) => probeDelayMs(a, () => 0.5))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(probeDelayMs(0, () => 0)).toBe(400);
    expect(probeDelayMs(0, () => 0.999999)).toBe(600);
  });
});
