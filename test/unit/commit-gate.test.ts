/**
 * The commit gate of the checkpoint thread (commit-gate.ts), alone: when it holds the writer's
 * next commit, and which answer of the thread lets it go. Fake WAL progress, a manual timer.
 */
import { expect, test } from "bun:test";
import { createCommitGate } from "../../src/store/sqlite/commit/commit-gate";

function setup() {
  let frames = 0;
  const asked: number[] = [];
  const timers: { ms: number; fn: () => void; cancelled: boolean }[] = [];
  const gate = createCommitGate({
    walFrames: 100,
    maxHoldMs: 25,
    read: () => ({ frames, backfilled: 0 }),
    askCatchUp: (id) => asked.push(id),
    after: (ms, fn) => {
      const t = { ms, fn, cancelled: false };
      timers.push(t);
      return () => void (t.cancelled = true);
    },
  });
  const timeOut = () => {
    const t = timers.findLast((x) => !x.cancelled)!;
    t.cancelled = true;
    t.fn();
  };
  return { gate, asked, timers, timeOut, wal: (f: number) => (frames = f) };
}

/** Whether a gate's promise has settled (after the microtasks queued so far). */
async function state(p: Promise<void> | null): Promise<"open" | "held" | "released"> {
  if (!p) return "open";
  let done = false;
  void p.then(() => (done = true));
  await Promise.resolve();
  await Promise.resolve();
  return done ? "released" : "held";
}

test("once the WAL is walFrames long, the next commit waits for the thread's answer to that catch-up", async () => {
  const s = setup();
  s.wal(99);
  expect(s.gate.gate()).toBeNull();
  s.wal(100);
  const held = s.gate.gate();
  expect(await state(held)).toBe("held");
  expect(s.asked).toEqual([1]);
  expect(s.gate.gate()).toBe(held); // later commits wait behind the same hold
  s.gate.caughtUp(1);
  expect(await state(held)).toBe("released");
  expect(s.timers[0]!.cancelled).toBe(true);
  s.wal(4); // the held commit started the WAL over
  expect(s.gate.gate()).toBeNull();
  s.wal(100);
  expect(await state(s.gate.gate())).toBe("held");
  expect(s.asked).toEqual([1, 2]);
});

test("a hold lasts at most maxHoldMs; the next try comes a walFrames later", async () => {
  const s = setup();
  s.wal(150);
  const held = s.gate.gate();
  expect(s.timers[0]!.ms).toBe(25);
  s.timeOut(); // the thread did not answer in time (a busy disk)
  expect(await state(held)).toBe("released");
  s.wal(249);
  expect(s.gate.gate()).toBeNull();
  s.wal(250);
  expect(await state(s.gate.gate())).toBe("held");
});

test("a late answer to a catch-up whose hold timed out does not release the next hold", async () => {
  const s = setup();
  s.wal(150);
  s.gate.gate();
  s.timeOut();
  s.wal(260);
  const second = s.gate.gate();
  expect(s.asked).toEqual([1, 2]);
  s.gate.caughtUp(1); // the first catch-up's answer, late: the frames since are not copied yet
  expect(await state(second)).toBe("held");
  s.gate.caughtUp(2);
  expect(await state(second)).toBe("released");
});

test("nothing is held while the WAL cannot be read; release() lets a held commit go (the thread stopped)", async () => {
  const s = setup();
  const gate = createCommitGate({ walFrames: 100, maxHoldMs: 25, read: () => null, askCatchUp: () => {} });
  expect(gate.gate()).toBeNull();
  s.wal(100);
  const held = s.gate.gate();
  s.gate.release();
  expect(await state(held)).toBe("released");
});
