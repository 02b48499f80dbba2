import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { replayWindowEnd } from "../../src/auth/init-data";
import { openDb, type Db } from "../../src/db/client";
import { createInitDataReplays, type InitDataReplays } from "../../src/db/init-data-replays";
import { createWriter } from "../../src/db/writer";
import { removeDir, tempDir } from "../support/tgwh";

let dir: string;
let db: Db;
let replays: InitDataReplays;

beforeEach(() => {
  dir = tempDir("tgwh-replays-");
  db = openDb({ path: join(dir, "t.db"), synchronous: "NORMAL", busyTimeoutMs: 1000, migrate: true });
  replays = createInitDataReplays(db.sqlite, createWriter(db.sqlite));
});
afterEach(() => {
  db.close();
  removeDir(dir);
});

describe("init_data_replays on a real SQLite file", () => {
  test("first use true; again before expiry false; after expiry true again; prune removes expired rows only", async () => {
    expect(await replays.firstUse("a".repeat(64), 10_000, 1_000)).toBe(true);
    expect(await replays.firstUse("a".repeat(64), 10_000, 9_999)).toBe(false);
    expect(await replays.firstUse("b".repeat(64), 50_000, 9_999)).toBe(true);
    // Expired but not pruned yet: free again, with the new expiry.
    expect(await replays.firstUse("a".repeat(64), 20_000, 10_000)).toBe(true);
    expect(await replays.firstUse("a".repeat(64), 20_000, 15_000)).toBe(false);
    expect(await replays.prune(20_000)).toBe(1);
    expect(await replays.prune(20_000)).toBe(0);
    expect((db.sqlite.query("SELECT hash FROM init_data_replays").all() as { hash: string }[]).map((r) => r.hash[0])).toEqual(["b"]);
  });
  test("the window: auth_date + max age + the tolerated skew; a week when the age check is off", () => {
    expect(replayWindowEnd(1_000, 3600, 2_000_000)).toBe((1_000 + 3600 + 60) * 1000);
    expect(replayWindowEnd(1_000, 0, 2_000_000)).toBe(2_000_000 + 7 * 86400_000);
  });
});
