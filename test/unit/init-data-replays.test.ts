import { describe, expect, test } from "bun:test";
import { replayWindowEnd } from "../../src/auth/init-data";

// What the store keeps is tested on every engine in test/store/contract.ts ("initDataReplays").
describe("initData replay window", () => {
  test("the window: auth_date + max age + the tolerated skew; a week when the age check is off", () => {
    expect(replayWindowEnd(1_000, 3600, 2_000_000)).toBe((1_000 + 3600 + 60) * 1000);
    expect(replayWindowEnd(1_000, 0, 2_000_000)).toBe(2_000_000 + 7 * 86400_000);
  });
});
