import { afterEach, beforeEach, expect, test } from "bun:test";
import { join } from "node:path";
import { createLogger } from "../../src/log";
import { createSlotBudget, slotBudgetPolicy } from "../../src/queue/slot-budget";
import { createWorker } from "../../src/queue/worker";
import { createSqliteStore } from "../../src/store/sqlite";
import type { Store } from "../../src/store/types";
import { createIngressLoad, INGRESS_BUSY_AT } from "../../src/telegram/ingress-load";
import { removeDir, tempDir, waitFor } from "../support/tgwh";

/** Issues 8 and 17: while the webhook is saturated the worker takes a pulse of jobs now and then; after, its slots return gradually. */
let dir: string;
let store: Store;
const quiet = createLogger({ level: "silent", secrets: [] });

beforeEach(async () => {
  dir = tempDir();
  store = createSqliteStore({ path: join(dir, "q.db"), synchronous: "FULL", busyTimeoutMs: 1000, migrate: true });
  // 40 updates of 40 different chats: nothing orders them, all are claimable at once.
  await store.jobs.insert(
    Array.from({ length: 40 }, (_, i) => ({
      kind: "telegram.update",
      dedupeKey: `update:${i + 1}`,
      orderKey: `chat:${i + 1}`,
      seq: i + 1,
      payload: "{}",
      maxAttempts: 3,
      runAt: Date.now(),
    })),
  );
});
afterEach(async () => {
  await store.close();
  removeDir(dir);
});

test("a saturated ingress gets the CPU: the worker takes only a pulse of concurrency/8 jobs per 250 ms, then its slots back step by step", async () => {
  // A clock the test moves; when the ingress counts as saturated is the next two tests' subject.
  let t = 100;
  let saturated = true;
  let running = 0;
  let peak = 0;
  let done = 0;
  const release: (() => void)[] = [];
  const releaseAll = () => {
    for (const r of release.splice(0)) r();
  };
  const worker = createWorker({
    jobs: store.jobs,
    concurrency: 16,
    leaseMs: 30_000,
    owner: "test/1",
    log: quiet,
    budget: createSlotBudget(slotBudgetPolicy(16), () => saturated, () => t),
  });
  worker.start({
    "telegram.update": async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((r) => release.push(r));
      running--;
      done++;
    },
  });
  await waitFor(() => running === 2, 5000, "the first pulse: two jobs running");
  await Bun.sleep(150); // the worker looks again every 100 ms while it yields
  expect(peak).toBe(2); // 16 / 8

  // Those two end; until 250 ms have passed on the clock nothing new starts, burst or not.
  releaseAll();
  await waitFor(() => done === 2, 5000, "the pulse's jobs done");
  await Bun.sleep(250);
  expect(running).toBe(0);
  t = 360;
  await waitFor(() => running === 2, 5000, "the next pulse");
  // Those two hang (a slow Bot API call): the next pulse still takes two new jobs.
  t = 620;
  await waitFor(() => running === 4, 5000, "a pulse on top of the hanging jobs");
  await Bun.sleep(150);
  expect(running).toBe(4);

  // The burst ends just after a look at t = 620: the first step (2 slots) at once, then 2 more per
  // 100 ms window, up to 16; the four running jobs count against them.
  saturated = false;
  await Bun.sleep(150);
  t = 720;
  await Bun.sleep(150);
  expect(running).toBe(4);
  for (let slots = 6; slots <= 16; slots += 2) {
    t += 100;
    await waitFor(() => running === slots, 5000, `${slots} slots in use`);
    expect(peak).toBe(slots);
  }
  while (done < 40) {
    releaseAll();
    await Bun.sleep(5);
  }
  expect(peak).toBe(16);
  await worker.stop(1000);
});

test("saturation is the mean in-flight count of the last window: not the count when a commit answered everyone, not a short pile-up", () => {
  let t = 0;
  const load = createIngressLoad(16, () => t, () => t); // one core busy throughout
  for (let i = 0; i < 16; i++) load.enter();
  t = 100;
  for (let i = 0; i < 16; i++) load.leave(); // a group commit answers the whole batch at once
  expect(load.inFlight).toBe(0);
  expect(load.saturated()).toBe(true); // 16 waiting all through the window
  t = 150;
  expect(load.saturated()).toBe(true); // the window is not over yet
  t = 250;
  expect(load.saturated()).toBe(false); // a whole window with nothing in flight: the burst is over
  // A commit hold piles up 40 requests for 10 ms of a window: a peak, not a burst.
  t = 290;
  for (let i = 0; i < 40; i++) load.enter();
  t = 300;
  for (let i = 0; i < 40; i++) load.leave();
  t = 350;
  expect(load.saturated()).toBe(false); // mean 4
});

test("requests waiting while the CPU is not the limit (a slow fsync) do not make the worker yield", () => {
  let t = 0;
  let cpu = 0;
  const load = createIngressLoad(16, () => t, () => cpu);
  for (let i = 0; i < 20; i++) load.enter();
  t = 100;
  cpu = 50; // the loop busy half of the window
  expect(load.saturated()).toBe(false);
  t = 200;
  cpu = 145; // busy 95 % of it
  expect(load.saturated()).toBe(true);
});
