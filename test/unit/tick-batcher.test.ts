import { describe, expect, test } from "bun:test";
import { createTickBatcher } from "../../src/store/postgres/batcher";

/** The per-tick batching of the PostgreSQL store's inserts, with a fake transaction. */
describe("tick batcher", () => {
  const defer = () => {
    let resolve!: () => void;
    const p = new Promise<void>((r) => (resolve = r));
    return { p, resolve };
  };

  test("calls of one tick share one batch; results go back to each caller in order", async () => {
    const batches: number[][] = [];
    const b = createTickBatcher<number, number>({ exec: async (items) => (batches.push([...items]), items.map((x) => x * 10)), splitOnFailure: () => false });
    const out = await Promise.all([b.run([1, 2]), b.run([3]), b.run([4, 5, 6])]);
    expect(batches).toEqual([[1, 2, 3, 4, 5, 6]]);
    expect(out).toEqual([[10, 20], [30], [40, 50, 60]]);
  });

  test("at most maxInFlight batches run; calls meanwhile wait and form the next batch", async () => {
    const gates: { p: Promise<void>; resolve: () => void }[] = [];
    const batches: number[][] = [];
    const b = createTickBatcher<number, number>({
      exec: async (items) => {
        batches.push([...items]);
        const g = defer();
        gates.push(g);
        await g.p;
        return [...items];
      },
      splitOnFailure: () => false,
      maxInFlight: 1,
    });
    const first = b.run([1]);
    await Bun.sleep(5);
    const later = [b.run([2]), b.run([3])];
    await Bun.sleep(5);
    expect(batches).toEqual([[1]]);
    gates[0]!.resolve();
    await first;
    await Bun.sleep(5);
    expect(batches).toEqual([[1], [2, 3]]);
    gates[1]!.resolve();
    expect(await Promise.all(later)).toEqual([[2], [3]]);
    await b.drain();
  });

  test("a failing batch is retried call by call when one item can be the cause; else every call fails", async () => {
    const seen: number[][] = [];
    const bad = createTickBatcher<number, number>({
      exec: async (items) => {
        seen.push([...items]);
        if (items.includes(13)) throw new Error("refused 13");
        return [...items];
      },
      splitOnFailure: () => true,
    });
    const r = await Promise.allSettled([bad.run([12]), bad.run([13]), bad.run([14])]);
    expect(r.map((x) => x.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(seen[0]).toEqual([12, 13, 14]);
    const down = createTickBatcher<number, number>({ exec: async () => Promise.reject(new Error("connection lost")), splitOnFailure: () => false });
    const d = await Promise.allSettled([down.run([1]), down.run([2])]);
    expect(d.map((x) => x.status)).toEqual(["rejected", "rejected"]);
  });

  test("drain waits for queued and running batches", async () => {
    let done = 0;
    const b = createTickBatcher<number, number>({ exec: async (items) => (await Bun.sleep(10), (done += items.length), [...items]), splitOnFailure: () => false });
    void b.run([1]);
    void b.run([2]);
    await b.drain();
    expect(done).toBe(2);
    await b.drain(); // idle: resolves at once
  });
});
