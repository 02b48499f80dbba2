import { expect, test } from "bun:test";
import { createSendLimiter } from "../../src/telegram/send-limits";

// After a restart the previous process may have just sent to any chat: the soak's kill -9 found
// re-run jobs resending within 1 s. A warm-start limiter keeps one interval from its creation.
test("warm start: first slot per chat is one interval after creation, global waits one window", () => {
  let now = 1_000_000;
  const l = createSendLimiter({ perSecond: 0, clock: () => now, warmStart: true });
  expect(l.reserve(7, 5000)).toEqual({ booked: true, waitMs: 1000, scope: "chat" });
  expect(l.reserve(-100, 5000)).toEqual({ booked: true, waitMs: 3000, scope: "group" });
  now += 1500;
  expect(l.reserve(8, 5000)).toEqual({ booked: true, waitMs: 0, scope: "none" });

  const g = createSendLimiter({ perSecond: 30, clock: () => now, warmStart: true });
  expect(g.reserve(9, 5000).waitMs).toBe(1000);
  now += 1000;
  expect(g.reserve(10, 5000).waitMs).toBe(34);
});

test("without warm start nothing changes", () => {
  const l = createSendLimiter({ perSecond: 30, clock: () => 5 });
  expect(l.reserve(7, 5000)).toEqual({ booked: true, waitMs: 0, scope: "none" });
});

test("holdChat: after a 429 with retry_after, no slot for that chat before it runs out", () => {
  let now = 1_000_000;
  const l = createSendLimiter({ perSecond: 0, clock: () => now });
  l.holdChat!(7, now + 5000);
  expect(l.reserve(7, 1100)).toEqual({ booked: false, waitMs: 5000, scope: "chat" });
  expect(l.reserve(8, 1100).booked).toBe(true);
  now += 5000;
  expect(l.reserve(7, 1100)).toEqual({ booked: true, waitMs: 0, scope: "none" });
});
