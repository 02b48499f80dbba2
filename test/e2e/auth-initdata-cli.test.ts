import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { nowSeconds, signInitData, tamperHash, webAppUserJson } from "../support/telegram-auth";
import { runTgwh, TEST_BOT_TOKEN } from "../support/tgwh";

/** Bounds a hang; generous because other suites share the 2 cores. Nothing here is timed. */
const CLI_TEST_TIMEOUT = 30_000;

const vectors = JSON.parse(readFileSync(new URL("../fixtures/init-data-vectors.json", import.meta.url), "utf8")) as {
  hmac_first_party: { bot_token: string; init_data: string; expect_valid: boolean }[];
  ed25519_third_party: { bot_id: number; init_data: string; expect_valid: boolean }[];
};
const firstParty = vectors.hmac_first_party.find((v) => v.expect_valid)!;
const thirdParty = vectors.ed25519_third_party.find((v) => v.expect_valid)!;

describe("tgwh initdata verify", () => {
  test("HMAC with the token from TGWH_BOT_TOKEN: valid → exit 0 with the parsed user; stale with the default max age → exit 1", async () => {
    const ok = await runTgwh(["initdata", "verify", "--max-age", "0"], { TGWH_BOT_TOKEN: firstParty.bot_token }, `${firstParty.init_data}\n`);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("valid (hmac, bot 5768337691)");
    expect(ok.stdout).toContain("user:        222 user-first-name user-last-name @user-username");
    expect(ok.stdout + ok.stderr).not.toContain(firstParty.bot_token.split(":")[1]!);
    const stale = await runTgwh(["initdata", "verify"], { TGWH_BOT_TOKEN: firstParty.bot_token }, firstParty.init_data);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toContain("expired");
  }, CLI_TEST_TIMEOUT);

  test("--json: fresh initData signed for the test token; tampered → exit 1 with code bad_hash", async () => {
    const raw = signInitData({ user: webAppUserJson({ id: 77, first_name: "Zoë 🚀" }), auth_date: String(nowSeconds()) }, TEST_BOT_TOKEN, { spaces: "+" });
    const ok = await runTgwh(["initdata", "verify", "--json"], { TGWH_BOT_TOKEN: TEST_BOT_TOKEN }, raw);
    expect(ok.code).toBe(0);
    const out = JSON.parse(ok.stdout) as { valid: boolean; data: { user: { id: number; first_name: string } } };
    expect(out.valid).toBe(true);
    expect(out.data.user).toEqual({ id: 77, first_name: "Zoë 🚀" });
    const bad = await runTgwh(["initdata", "verify", "--json"], { TGWH_BOT_TOKEN: TEST_BOT_TOKEN }, tamperHash(raw));
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ valid: false, error: { code: "bad_hash" } });
  }, CLI_TEST_TIMEOUT);

  test("Ed25519 with --bot-id: production key valid, wrong bot id or --test-env invalid", async () => {
    const ok = await runTgwh(["initdata", "verify", "--bot-id", String(thirdParty.bot_id), "--max-age", "0", "--json"], {}, thirdParty.init_data);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, data: { user: { id: 279058397, first_name: "Vladislav + - ? /" } } });
    const wrongBot = await runTgwh(["initdata", "verify", "--bot-id", String(thirdParty.bot_id + 1), "--max-age", "0"], {}, thirdParty.init_data);
    expect(wrongBot.code).toBe(1);
    expect(wrongBot.stdout).toContain("bad_signature");
    const testEnv = await runTgwh(["initdata", "verify", "--bot-id", String(thirdParty.bot_id), "--test-env", "--max-age", "0"], {}, thirdParty.init_data);
    expect(testEnv.code).toBe(1);
  }, CLI_TEST_TIMEOUT);

  test("names and values from the initData are printed escaped: no terminal escape, no forged line", async () => {
    const forged = "\n\u001b[1;32mvalid (hmac, bot 1)\u001b[0m\r";
    const raw = signInitData(
      { user: webAppUserJson({ id: 78, first_name: `Mallory${forged}\u202e\u009b2J` }), auth_date: String(nowSeconds()), [`x${forged}`]: "1", start_param: `s${forged}` },
      TEST_BOT_TOKEN,
    );
    const text = await runTgwh(["initdata", "verify"], { TGWH_BOT_TOKEN: TEST_BOT_TOKEN }, raw);
    expect(text.code).toBe(0);
    expect(text.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(text.stdout.split("\n").filter((l) => l.startsWith("valid") || l.startsWith("invalid"))).toEqual(["valid (hmac, bot 123456789)"]);
    expect(text.stdout).toContain("Mallory\\u000a\\u001b[1;32mvalid");
    // A repeated field name is refused with the name in the message: escaped there too.
    const repeated = await runTgwh(["initdata", "verify"], { TGWH_BOT_TOKEN: TEST_BOT_TOKEN }, `a${encodeURIComponent(forged)}=1&a${encodeURIComponent(forged)}=2`);
    expect(repeated.code).toBe(1);
    expect(repeated.stdout).not.toMatch(/[\u001b\r]/);
    expect(repeated.stdout.split("\n")).toHaveLength(2); // the result line and the trailing newline
    const json = await runTgwh(["initdata", "verify", "--json"], { TGWH_BOT_TOKEN: TEST_BOT_TOKEN }, raw);
    expect(json.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect((JSON.parse(json.stdout) as { data: { user: { first_name: string } } }).data.user.first_name).toBe(`Mallory${forged}\u202e\u009b2J`);
  }, CLI_TEST_TIMEOUT);

  test("usage errors → exit 2", async () => {
    expect((await runTgwh(["initdata", "verify"], {}, firstParty.init_data)).code).toBe(2); // no token, no --bot-id
    expect((await runTgwh(["initdata", "verify"], { TGWH_BOT_TOKEN: TEST_BOT_TOKEN }, "")).code).toBe(2);
    expect((await runTgwh(["initdata", "verify", "--bot-id", "abc"], {}, "x")).code).toBe(2);
    expect((await runTgwh(["initdata", "verify", "--frobnicate"], {}, "x")).code).toBe(2);
    expect((await runTgwh(["initdata"], {}, "x")).code).toBe(2);
  }, CLI_TEST_TIMEOUT);
});
