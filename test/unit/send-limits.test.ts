import { describe, expect, test } from "bun:test";
import { createSendLimiter } from "../../src/telegram/send-limits";

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("send limiter", () => {
  test("one message per second per private chat", () => {
    const c = clock();
    const l = createSendLimiter({ perSecond: 0, clock: c.now });
    expect(l.reserve(1, 5000)).toEqual({ booked: true, waitMs: 0, scope: "none" });
    expect(l.reserve(1, 5000)).toEqual({ booked: true, waitMs: 1000, scope: "chat" });
    expect(l.reserve(2, 5000).waitMs).toBe(0);
  });
  test("twenty per minute per group: 3 s apart", () => {
    const c = clock();
    const l = createSendLimiter({ perSecond: 0, clock: c.now });
    l.reserve(-100, 5000);
    expect(l.reserve(-100, 5000)).toEqual({ booked: true, waitMs: 3000, scope: "group" });
  });
  test("a slot further than maxWait is not booked, so a deferral costs nothing", () => {
    const c = clock();
    const l = createSendLimiter({ perSecond: 0, clock: c.now });
    l.reserve(-100, 5000);
    expect(l.reserve(-100, 1000)).toEqual({ booked: false, waitMs: 3000, scope: "group" });
    c.advance(3000);
    expect(l.reserve(-100, 1000)).toEqual({ booked: true, waitMs: 0, scope: "none" });
  });
  test("global cap spaces sends 1/N s apart across chats", () => {
    const c = clock();
    const l = createSendLimiter({ perSecond: 10, clock: c.now });
    const waits = [1, 2, 3, 4].map((chat) => l.reserve(chat, 5000).waitMs);
    expect(waits).toEqual([0, 100, 200, 300]);
  });
  test("a chat-limited future booking does not block free global slots before it", () => {
    const c = clock();
    const l = createSendLimiter({ perSecond: 10, clock: c.now });
    l.reserve(1, 5000); // t=0
    expect(l.reserve(1, 5000).waitMs).toBe(1000); // chat 1 again at t=1000
    expect(l.reserve(2, 5000).waitMs).toBe(100); // chat 2 still gets t=100
  });
  test("never more than N sends in any one-second window", () => {
    const c = clock();
    const l = createSendLimiter({ perSecond: 30, clock: c.now });
    const times: number[] = [];
    for (let i = 0; i < 300; i++) {
      const r = l.reserve(i, 60_000);
      times.push(c.now() + r.waitMs);
      if (i % 7 === 0) c.advance(13);
    }
    times.sort((a, b) => a - b);
    for (let i = 30; i < times.length; i++) expect(times[i]! - times[i - 30]!).toBeGreaterThanOrEqual(999);
  });
});
