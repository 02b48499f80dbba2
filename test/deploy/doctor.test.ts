/** `tgwh doctor` against a running dist/tgwh and the fake Bot API: healthy, then each problem it must name. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { removeDir, runTgwh, startTgwh, tempDir, TEST_BOT_TOKEN, TEST_SECRET, type TgwhProcess } from "../support/tgwh";

const PUBLIC = "https://tg.example.test";
let api: FakeBotApi;
let tg: TgwhProcess;
let dir: string;

const env = (extra: Record<string, string | undefined> = {}) => ({
  TGWH_DB: tg.dbPath,
  TGWH_LISTEN: `127.0.0.1:${tg.port}`,
  TGWH_BOT_TOKEN: TEST_BOT_TOKEN,
  TGWH_WEBHOOK_SECRET: TEST_SECRET,
  TGWH_TELEGRAM_API: api.url,
  TGWH_PUBLIC_URL: PUBLIC,
  ...extra,
});
const healthyWebhook = () => {
  for (const k of Object.keys(api.webhookInfo)) delete api.webhookInfo[k];
  Object.assign(api.webhookInfo, { url: `${PUBLIC}/telegram/webhook`, has_custom_certificate: false, pending_update_count: 3, max_connections: 40, allowed_updates: ["message", "callback_query"] });
  api.setClockOffset(0);
  api.failAlways("getMe", null);
};
const line = (out: string, name: string) => out.split("\n").find((l) => new RegExp(`^(OK|WARN|FAIL) +${name} `).test(l)) ?? `(no ${name} line)\n${out}`;

beforeAll(async () => {
  dir = tempDir("tgwh-doctor-");
  api = startFakeBotApi();
  tg = await startTgwh({ dir, env: { TGWH_TELEGRAM_API: api.url, TGWH_PUBLIC_URL: PUBLIC } });
});
afterAll(async () => {
  await tg?.stop();
  api?.stop();
  removeDir(dir);
});

describe("tgwh doctor", () => {
  test("healthy deployment: every check OK (the session key only warns), exit 0", async () => {
    healthyWebhook();
    const res = await runTgwh(["doctor"], env());
    expect(res.code).toBe(0);
    for (const name of ["config", "bot_token", "webhook_secret", "database", "migrations", "disk", "service", "telegram", "clock", "webhook_url", "webhook_pending", "webhook_last_error", "webhook_max_connections", "webhook_allowed_updates"]) {
      expect(line(res.stdout, name)).toMatch(/^OK /);
    }
    expect(line(res.stdout, "session_secret")).toMatch(/^WARN /);
    expect(line(res.stdout, "telegram")).toContain("@tgwh_test_bot");
    expect(res.stdout + res.stderr).not.toContain(TEST_BOT_TOKEN);
    expect(res.stdout + res.stderr).not.toContain(TEST_SECRET);
  });

  test("wrong webhook URL, backlog, a recent error, narrowed allowed_updates and a skewed clock: each named with a hint, exit 1", async () => {
    healthyWebhook();
    Object.assign(api.webhookInfo, {
      url: "https://old.example.test/telegram/webhook",
      pending_update_count: 250,
      last_error_date: Math.floor(Date.now() / 1000) - 120,
      last_error_message: "Connection timed out",
      allowed_updates: ["callback_query"],
    });
    api.setClockOffset(-60_000); // Telegram's clock a minute behind ours
    const res = await runTgwh(["doctor"], env());
    expect(res.code).toBe(1);
    expect(line(res.stdout, "webhook_url")).toMatch(/^FAIL .*old\.example\.test.*expected https:\/\/tg\.example\.test\/telegram\/webhook/);
    expect(line(res.stdout, "webhook_pending")).toMatch(/^WARN +webhook_pending +250 updates wait/);
    expect(line(res.stdout, "webhook_last_error")).toMatch(/^WARN .*2 min ago: Connection timed out/);
    expect(line(res.stdout, "webhook_allowed_updates")).toMatch(/^WARN /);
    expect(line(res.stdout, "clock")).toMatch(/^FAIL +clock +local clock \+(59|60|61)\.\d s/);
    expect(res.stdout).toContain("hint: run `sudo tgwh-admin webhook set`");
    expect(res.stdout).toContain("hint: enable time sync");
  });

  test("a revoked token → FAIL telegram (token never printed); a bad setting → FAIL config; nothing listening → WARN service", async () => {
    healthyWebhook();
    api.failAlways("getMe", { kind: "error", code: 401, description: "Unauthorized" });
    const revoked = await runTgwh(["doctor"], env());
    expect(revoked.code).toBe(1);
    expect(line(revoked.stdout, "telegram")).toMatch(/^FAIL .*wrong or revoked/);
    expect(revoked.stdout).not.toContain(TEST_BOT_TOKEN);
    api.failAlways("getMe", null);

    const badConfig = await runTgwh(["doctor"], env({ TGWH_LOG_LEVEL: "loud" }));
    expect(badConfig.code).toBe(1);
    expect(line(badConfig.stdout, "config")).toMatch(/^FAIL +config +TGWH_LOG_LEVEL: must be one of/);

    const stopped = await runTgwh(["doctor", "--json"], env({ TGWH_LISTEN: "127.0.0.1:9" }));
    const report = JSON.parse(stopped.stdout) as { status: string; checks: { name: string; status: string; hint?: string }[] };
    expect(report.checks.find((c) => c.name === "service")).toMatchObject({ status: "WARN" });
    expect(report.status).toBe("WARN");
    expect(stopped.code).toBe(0);
  });

  test("--env-file and --credentials-dir read the service's settings; loose credential modes FAIL", async () => {
    healthyWebhook();
    const etc = join(dir, "etc");
    const creds = join(etc, "credentials");
    mkdirSync(creds, { recursive: true, mode: 0o700 });
    writeFileSync(join(etc, "tgwh.env"), `# like /etc/tgwh/tgwh.env\nTGWH_PUBLIC_URL=${PUBLIC}\nTGWH_DB=${tg.dbPath}\nTGWH_LISTEN="127.0.0.1:${tg.port}"\nTGWH_TELEGRAM_API=${api.url}\n`);
    writeFileSync(join(creds, "bot_token"), TEST_BOT_TOKEN, { mode: 0o600 });
    writeFileSync(join(creds, "webhook_secret"), TEST_SECRET, { mode: 0o644 });
    const res = await runTgwh(["doctor", "--env-file", join(etc, "tgwh.env"), "--credentials-dir", creds], {});
    expect(line(res.stdout, "webhook_url")).toMatch(/^OK /);
    expect(line(res.stdout, "service")).toMatch(/^OK /);
    expect(line(res.stdout, "credential_modes")).toMatch(/^FAIL .*webhook_secret/);
    expect(res.code).toBe(1);
  });
});
