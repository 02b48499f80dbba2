import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jobOfUpdate } from "../support/db";
import { startFakeBotApi } from "../support/fake-bot-api";
import { messageUpdate, postUpdate, removeDir, runTgwh, startTgwh, tempDir, TEST_BOT_TOKEN, TEST_SECRET, waitFor } from "../support/tgwh";

const dir = tempDir();
const api = startFakeBotApi();
afterAll(() => {
  api.stop();
  removeDir(dir);
});
const base = { TGWH_DB: join(dir, "cfg.db"), TGWH_LISTEN: "127.0.0.1:0" };

describe("configuration errors stop the start with exit 2 and one clear line", () => {
  test("no bot token outside dev mode", async () => {
    const r = await runTgwh(["serve"], { ...base, TGWH_WEBHOOK_SECRET: TEST_SECRET });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("TGWH_BOT_TOKEN: is not set");
  });

  test("a malformed webhook secret is named, its value is not shown", async () => {
    const bad = "has spaces and a secret value!";
    const r = await runTgwh(["serve"], { ...base, TGWH_BOT_TOKEN: TEST_BOT_TOKEN, TGWH_WEBHOOK_SECRET: bad });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("TGWH_WEBHOOK_SECRET: must be 1-256 characters");
    expect(r.stderr).not.toContain(bad);
  });

  test.each([
    ["TGWH_WORKER_CONCURRENCY", "lots", "TGWH_WORKER_CONCURRENCY: must be an integer"],
    ["TGWH_LISTEN", "8080", "TGWH_LISTEN: must be HOST:PORT"],
    ["TGWH_PUBLIC_URL", "http://insecure.example", "TGWH_PUBLIC_URL: must be an https URL"],
    ["TGWH_BOT_TOKEN", "not-a-token", "TGWH_BOT_TOKEN: does not look like a bot token"],
  ])("%s=%s", async (name, value, message) => {
    const r = await runTgwh(["serve"], { ...base, TGWH_BOT_TOKEN: TEST_BOT_TOKEN, TGWH_WEBHOOK_SECRET: TEST_SECRET, [name]: value });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  test("an unreadable *_FILE is reported with its variable name", async () => {
    const r = await runTgwh(["serve"], { ...base, TGWH_BOT_TOKEN_FILE: join(dir, "missing"), TGWH_WEBHOOK_SECRET: TEST_SECRET });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("TGWH_BOT_TOKEN_FILE: cannot read the file (ENOENT)");
  });
});

describe("secrets from files and systemd credentials", () => {
  test("token via _FILE and secret via $CREDENTIALS_DIRECTORY; neither appears in the log", async () => {
    const creds = join(dir, "creds");
    mkdirSync(creds, { recursive: true });
    writeFileSync(join(dir, "token"), `${TEST_BOT_TOKEN}\n`);
    writeFileSync(join(creds, "webhook_secret"), `${TEST_SECRET}\n`);
    const tg = await startTgwh({
      env: {
        TGWH_TELEGRAM_API: api.url,
        TGWH_BOT_TOKEN: undefined,
        TGWH_WEBHOOK_SECRET: undefined,
        TGWH_BOT_TOKEN_FILE: join(dir, "token"),
        CREDENTIALS_DIRECTORY: creds,
      },
    });
    try {
      expect((await postUpdate(tg.url, messageUpdate(6001, 1601, "/start"))).status).toBe(200);
      await waitFor(() => jobOfUpdate(tg.dbPath, 6001)?.state === "done", 10_000, "update done", tg.logs);
      // The Bot API URL carries the token; it must be scrubbed wherever it shows up.
      api.failNext("sendMessage", { kind: "error", code: 500, description: `echo of bot${TEST_BOT_TOKEN}` });
      await postUpdate(tg.url, messageUpdate(6002, 1602, "/help"));
      await waitFor(() => jobOfUpdate(tg.dbPath, 6002)?.state === "done", 10_000, "update done", tg.logs);
    } finally {
      await tg.stop();
    }
    const log = tg.logs();
    expect(log).toContain("[REDACTED]");
    expect(log).not.toContain(TEST_BOT_TOKEN);
    expect(log).not.toContain(TEST_SECRET);
  });
});

describe("lifecycle", () => {
  test("SIGTERM lets a running job finish, then exits 0", async () => {
    const tg = await startTgwh({ env: { TGWH_TELEGRAM_API: api.url, TGWH_SHUTDOWN_SECONDS: "5" } });
    api.failNext("sendMessage", { kind: "delay", ms: 1500 });
    await postUpdate(tg.url, messageUpdate(6101, 1701, "/help"));
    await waitFor(() => jobOfUpdate(tg.dbPath, 6101)?.state === "running", 5000, "job running", tg.logs);
    expect(await tg.stop("SIGTERM")).toBe(0);
    expect(jobOfUpdate(tg.dbPath, 6101)!.state).toBe("done");
  });

  test("SIGTERM right after a burst: every acknowledged update's line and the stop lines reach the log (lines are batched per turn)", async () => {
    const tg = await startTgwh({ env: { TGWH_TELEGRAM_API: api.url } });
    const ids = Array.from({ length: 300 }, (_, i) => 6200 + i);
    const answers = await Promise.all(ids.map((id) => postUpdate(tg.url, messageUpdate(id, 1800 + (id % 7), "hello"))));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(await tg.stop("SIGTERM")).toBe(0);
    const lines = tg
      .logs()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { msg: string; outcome?: string; update_id?: number });
    const acked = new Set(lines.filter((l) => l.msg === "webhook" && l.outcome === "stored").map((l) => l.update_id));
    expect(ids.filter((id) => !acked.has(id))).toEqual([]);
    expect(lines.at(-1)!.msg).toBe("stopped");
    expect(lines.some((l) => l.msg.startsWith("stopping"))).toBe(true);
  });

  test("a job still running at the shutdown deadline is handed back and runs after restart", async () => {
    const d = tempDir();
    const env = { TGWH_TELEGRAM_API: api.url, TGWH_SHUTDOWN_SECONDS: "1" };
    const tg = await startTgwh({ dir: d, env });
    api.failNext("sendMessage", { kind: "delay", ms: 2500 });
    await postUpdate(tg.url, messageUpdate(6102, 1702, "/help"));
    await waitFor(() => jobOfUpdate(tg.dbPath, 6102)?.state === "running", 5000, "job running", tg.logs);
    expect(await tg.stop("SIGTERM")).toBe(0);
    expect(jobOfUpdate(tg.dbPath, 6102)!.state).toBe("pending");
    const again = await startTgwh({ dir: d, env });
    try {
      await waitFor(() => jobOfUpdate(again.dbPath, 6102)?.state === "done", 10_000, "job done after restart", again.logs);
    } finally {
      await again.stop();
      removeDir(d);
    }
  });

  test("`tgwh migrate` applies the embedded migrations and reports them", async () => {
    const r = await runTgwh(["migrate", "--json"], { TGWH_DB: join(dir, "m.db") });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.pending).toEqual([]);
    expect(out.applied.length).toBeGreaterThan(0);
  });

  test("dev sandbox: no token, TGWH_DEV=1 → generated secret, built-in fake Bot API, the bot answers", async () => {
    const tg = await startTgwh({ env: { TGWH_DEV: "1", TGWH_BOT_TOKEN: undefined, TGWH_WEBHOOK_SECRET: undefined, TGWH_LOG_LEVEL: "info" } });
    try {
      const m = /X-Telegram-Bot-Api-Secret-Token: ([A-Za-z0-9_-]+)/.exec(tg.logs());
      expect(m).not.toBeNull();
      expect((await postUpdate(tg.url, messageUpdate(6201, 42, "/start"), m![1])).status).toBe(200);
      await waitFor(() => tg.logs().includes("sandbox bot sent a message"), 10_000, "the sandbox bot to answer", tg.logs);
    } finally {
      await tg.stop();
    }
  });
});
