import { expect, test } from "bun:test";
import { createSendGuard } from "../../src/telegram/send-guard";

function fakeTime() {
  let now = 10_000;
  const slept: number[] = [];
  return { clock: () => now, sleep: async (ms: number) => void (slept.push(ms), (now += ms)), slept, advance: (ms: number) => (now += ms) };
}

test("a late wake-up cannot bunch sends: at most perSecond in any 1100 ms (10 % headroom for jitter)", async () => {
  const t = fakeTime();
  const g = createSendGuard({ perSecond: 3, clock: t.clock, sleep: t.sleep });
  await g.beforeSend(1);
  await g.beforeSend(2);
  await g.beforeSend(3);
  expect(t.slept).toEqual([]);
  await g.beforeSend(4); // the 4th waits until the 1st leaves the window
  expect(t.slept).toEqual([1101]);
});

test("two sends to one chat keep perChatMs apart, other chats go at once", async () => {
  const t = fakeTime();
  const g = createSendGuard({ perSecond: 0, clock: t.clock, sleep: t.sleep });
  await g.beforeSend(7);
  t.advance(400);
  await g.beforeSend(8);
  expect(t.slept).toEqual([]);
  await g.beforeSend(7);
  expect(t.slept).toEqual([600]);
});
