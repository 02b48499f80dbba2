import { describe, expect, test } from "bun:test";
import { ASSUMED_GATEWAYS, fallbackShare, probeDelayMs } from "../../src/limits/fallback-policy";
import { createRetryAfterPolicy } from "../../src/limits/retry-after";
import { decideSend, emptySendState, holdSends, recordSend, sendRules, sweepSendState, type SendState } from "../../src/limits/send-rules";

/** decide + record, as a limiter does. */
function send(state: SendState, chat: number | string, now: number, perSecond: number, cap = perSecond) {
  const d = decideSend(state, chat, now, sendRules(perSecond), cap);
  if (d.ok) recordSend(state, chat, now, sendRules(perSecond));
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

  test("global cap: at most N sends in any 1100 ms window (10 % margin over Telegram's second)", () => {
    const s = emptySendState();
    for (const chat of [1, 2, 3]) expect(send(s, chat, 10_000, 3).ok).toBe(true);
    expect(send(s, 4, 10_000, 3)).toEqual({ ok: false, waitMs: 1100, scope: "global" });
    expect(send(s, 4, 11_099, 3)).toEqual({ ok: false, waitMs: 1, scope: "global" });
    expect(send(s, 4, 11_100, 3).ok).toBe(true);
  });

  test("a refused decision counts nothing", () => {
    const s = emptySendState();
    send(s, 1, 0, 1);
    for (let i = 0; i < 5; i++) expect(send(s, 2, 10, 1).ok).toBe(false);
    expect(s.recent).toEqual([0]);
    expect(send(s, 2, 1100, 1).ok).toBe(true);
  });

  test("the cap argument (a fallback share) overrides perSecond for the decision", () => {
    const s = emptySendState();
    expect(send(s, 1, 0, 30, 1).ok).toBe(true);
    expect(send(s, 2, 0, 30, 1)).toEqual({ ok: false, waitMs: 1100, scope: "global" });
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
    expect(send(s, 1, 600, 30)).toEqual({ ok: false, waitMs: 1000, scope: "global" });
    expect(send(s, 2, 1599, 30)).toEqual({ ok: false, waitMs: 1, scope: "global" });
    expect(send(s, 2, 1600, 30).ok).toBe(true);
    expect(send(s, -5, 1600, 30)).toEqual({ ok: false, waitMs: 1900, scope: "group" });
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
    for (let i = 30; i < granted.length; i++) expect(granted[i]! - granted[i - 30]!).toBeGreaterThanOrEqual(1100);
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
  test("probes back off from 0.5 s to 10 s, with jitter", () => {
    expect([0, 1, 2, 3, 4, 5, 20].map((a) => probeDelayMs(a, () => 0.5))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(probeDelayMs(0, () => 0)).toBe(400);
    expect(probeDelayMs(0, () => 0.999999)).toBe(600);
  });
});
