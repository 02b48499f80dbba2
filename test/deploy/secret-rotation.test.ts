/**
 * Webhook secret rotation as docs/runbook.md describes it, with the secrets handed over the way
 * tgwh.service does (files in $CREDENTIALS_DIRECTORY, webhook_secret_old empty outside a window):
 * before → only the old secret; window → both; `tgwh webhook set` registers the new one; after → only the new one.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { messageUpdate, postUpdate, removeDir, runTgwh, startTgwh, tempDir, TEST_BOT_TOKEN, type TgwhProcess } from "../support/tgwh";

const OLD = "old_secret_0123456789_abcdef";
const NEW = "new_secret_9876543210_fedcba";

let dir: string;
let creds: string;
let api: FakeBotApi;
let tg: TgwhProcess | null = null;
let updateId = 9100;

const writeCred = (name: string, value: string) => writeFileSync(join(creds, name), value, { mode: 0o600 });
// Like the unit: no secret in the environment, only the credentials directory.
const serviceEnv = () => ({
  TGWH_BOT_TOKEN: undefined,
  TGWH_WEBHOOK_SECRET: undefined,
  CREDENTIALS_DIRECTORY: creds,
  TGWH_TELEGRAM_API: api.url,
  TGWH_PUBLIC_URL: "https://tg.example.test",
});
/** `systemctl restart tgwh`: stop, start on the same database with the credentials as they are now. */
async function restart(): Promise<TgwhProcess> {
  await tg?.stop();
  tg = await startTgwh({ dir, env: serviceEnv() });
  return tg;
}
const statusWith = async (secret: string) => (await postUpdate(tg!.url, messageUpdate(updateId++, 77, "hello"), secret)).status;

beforeAll(() => {
  dir = tempDir("tgwh-rotation-");
  creds = join(dir, "credentials");
  mkdirSync(creds, { mode: 0o700 });
  api = startFakeBotApi();
  writeCred("bot_token", TEST_BOT_TOKEN);
});
afterAll(async () => {
  await tg?.stop();
  api?.stop();
  removeDir(dir);
});

describe("webhook secret rotation without dropping updates", () => {
  test("before: the current secret is accepted, an empty webhook_secret_old means none", async () => {
    writeCred("webhook_secret", OLD);
    writeCred("webhook_secret_old", "");
    await restart();
    expect(await statusWith(OLD)).toBe(200);
    expect(await statusWith(NEW)).toBe(401);
  });

  test("window: old and new both 200; `tgwh webhook set` registers the new secret with Telegram", async () => {
    writeCred("webhook_secret_old", OLD);
    writeCred("webhook_secret", NEW);
    await restart();
    expect(await statusWith(OLD)).toBe(200); // Telegram still signs with the old one until setWebhook
    expect(await statusWith(NEW)).toBe(200);

    const set = await runTgwh(["webhook", "set"], { ...serviceEnv(), TGWH_DB: tg!.dbPath });
    expect(set.code).toBe(0);
    const calls = api.callsOf("setWebhook");
    expect(calls.at(-1)!.payload.secret_token).toBe(NEW);
    expect(calls.at(-1)!.payload.url).toBe("https://tg.example.test/telegram/webhook");
    expect(set.stdout + set.stderr).not.toContain(NEW);
    expect(await statusWith(OLD)).toBe(200);
    const doc = await runTgwh(["doctor", "--credentials-dir", creds], { TGWH_DB: tg!.dbPath, TGWH_TELEGRAM_API: api.url });
    expect(doc.stdout).toMatch(/^WARN +rotation +webhook_secret_old is set/m);
  });

  test("after: webhook_secret_old emptied and a restart → old 401, new 200; tgwh doctor sees no open window", async () => {
    writeCred("webhook_secret_old", "");
    await restart();
    expect(await statusWith(OLD)).toBe(401);
    expect(await statusWith(NEW)).toBe(200);
    const doc = await runTgwh(["doctor", "--credentials-dir", creds], { TGWH_DB: tg!.dbPath, TGWH_TELEGRAM_API: api.url });
    expect(doc.stdout).toMatch(/^OK +webhook_secret +present$/m);
    expect(doc.stdout).not.toMatch(/^WARN +rotation/m);
  });
});
