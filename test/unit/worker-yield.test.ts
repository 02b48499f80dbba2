import { afterEach, beforeEach, expect, test } from "bun:test";
import { join } from "node:path";
import { createLogger } from "../../src/log";
import { createWorker } from "../../src/queue/worker";
import { createSqliteStore } from "../../src/store/sqlite";
import type { Store } from "../../src/store/types";
import { createIngressLoad, INGRESS_BUSY_AT } from "../../src/telegram/ingress-load";
import { removeDir, tempDir, waitFor } from "../support/tgwh";

/** Issue 8: while the webhook is saturated the worker keeps an eighth of its slots; then all of them. */
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

test("a saturated ingress gets the CPU: the worker runs at most concurrency/8 jobs, and all slots once the burst ends", async () => {
  // A clock the test moves, and a process that uses a whole core meanwhile.
  let t = 0;
  const load = createIngressLoad(INGRESS_BUSY_AT, () => t, () => t);
  for (let i = 0; i < INGRESS_BUSY_AT; i++) load.enter();
  t = 100;
  expect(load.saturated()).toBe(true);
  let running = 0;
  let peak = 0;
  let done = 0;
  const release: (() => void)[] = [];
  const worker = createWorker({
    jobs: store.jobs,
    concurrency: 16,
    leaseMs: 30_000,
    owner: "test/1",
    log: quiet,
    yieldToIngress: () => load.saturated(),
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
  await waitFor(() => running === 2, 5000, "two jobs running");
  await Bun.sleep(100);
  expect(peak).toBe(2); // 16 / 8 while the webhook is saturated

  for (let i = 0; i < INGRESS_BUSY_AT; i++) load.leave();
  t = 400;
  // The two jobs still run (a slow Bot API); the worker looks again on its own once the burst is over.
  await waitFor(() => running === 16, 5000, "all sixteen slots in use");
  while (done < 40) {
    for (const r of release.splice(0)) r();
    await Bun.sleep(5);
  }
  expect(peak).toBe(16);
  await worker.stop(1000);
});

test("saturation is the peak of the last ~100-200 ms, not the count at the moment a commit answered everyone", () => {
  let t = 0;
  const load = createIngressLoad(16, () => t, () => t); // one core busy throughout
  for (let i = 0; i < 16; i++) load.enter();
  for (let i = 0; i < 16; i++) load.leave(); // a group commit answers the whole batch at once
  expect(load.inFlight).toBe(0);
  t = 100;
  expect(load.saturated()).toBe(true);
  t = 150;
  expect(load.saturated()).toBe(true); // the previous window still had the burst
  t = 400;
  expect(load.saturated()).toBe(false); // two quiet windows: the burst is over
  for (let i = 0; i < 15; i++) load.enter();
  expect(load.saturated()).toBe(false);
});

test("requests piling up while the CPU is not the limit (a commit hold, a slow fsync) do not make the worker yield", () => {
  let t = 0;
  let cpu = 0;
  const load = createIngressLoad(16, () => t, () => cpu);
  for (let i = 0; i < 20; i++) load.enter();
  t = 100;
  cpu = 50; // the loop busy half of the window
  expect(load.saturated()).toBe(false);
  for (let i = 0; i < 20; i++) load.enter();
  t = 200;
  cpu = 145; // busy 95 % of it
  expect(load.saturated()).toBe(true);
});
