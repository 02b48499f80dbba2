/**
 * The Bot API may echo its request in an error description: the token in the URL, the
 * secret_token of setWebhook. Such text must not be stored (jobs.last_error, the errors history,
 * audit_log.result) or answered (a 502 body, the admin views) with the secrets in it. The fake Bot
 * API here answers exactly that, against the compiled binary.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { createAdminClient, createToken } from "../support/admin";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { removeDir, startTgwh, TEST_BOT_TOKEN, TEST_SECRET, waitFor, type TgwhProcess } from "../support/tgwh";

setDefaultTimeout(60_000);

/** Fake values for this test only. */
const SESSION_SECRET = "scrub_test_session_secret_0123456789abcdefgh";
const OLD_SECRET = "scrub_test_previous_webhook_secret_42";
const SECRETS = [TEST_BOT_TOKEN, TEST_SECRET, OLD_SECRET, SESSION_SECRET];
const echo = (what: string) =>
  `${what}: request https://api.telegram.org/bot${TEST_BOT_TOKEN}/call {"secret_token":"${TEST_SECRET}","old":"${OLD_SECRET}","k":"${SESSION_SECRET}"}`;

let api: FakeBotApi;
let tg: TgwhProcess;
let operator: string;
let viewer: string;
let admin: string;
const client = () => createAdminClient(tg.url);

beforeAll(async () => {
  api = startFakeBotApi();
  tg = await startTgwh({
    env: { TGWH_TELEGRAM_API: api.url, TGWH_PUBLIC_URL: "https://bot.example.test", TGWH_SESSION_SECRET: SESSION_SECRET, TGWH_WEBHOOK_SECRET_OLD: OLD_SECRET },
  });
  [operator, viewer, admin] = await Promise.all([createToken(tg.dbPath, "op", "operator"), createToken(tg.dbPath, "view", "viewer"), createToken(tg.dbPath, "adm", "admin")]);
});
afterAll(async () => {
  await tg?.stop();
  api?.stop();
  if (tg) removeDir(tg.dir);
});

const expectNoSecret = (where: string, text: string) => {
  for (const s of SECRETS) expect({ where, leaked: text.includes(s) }).toEqual({ where, leaked: false });
};

function rows<T>(sql: string): T[] {
  const db = new Database(tg.dbPath, { readonly: true });
  try {
    return db.query(sql).all() as T[];
  } finally {
    db.close();
  }
}

describe("error text from the Bot API is scrubbed before it is stored or answered", () => {
  test("a notification whose sendMessage fails: last_error, the errors history and the admin views hold no secret", async () => {
    // First a transient 500 (kept in the errors history), then a permanent 400 (last_error of a discarded job).
    api.failNext("sendMessage", { kind: "error", code: 500, description: echo("Internal Server Error") });
    api.failNext("sendMessage", { kind: "error", code: 400, description: echo("Bad Request: chat not found") });
    const sent = await client().call("POST", "/admin/notifications", operator, { chatId: 4711, text: "hello", dedupeKey: "scrub-1" });
    expect(sent.status).toBe(202);
    const id = sent.json.jobId as number;
    await waitFor(() => rows<{ state: string }>(`SELECT state FROM jobs WHERE id = ${id}`)[0]?.state === "discarded", 30_000, "the notification to be discarded", tg.logs);
    const [job] = rows<{ last_error: string; errors: string }>(`SELECT last_error, errors FROM jobs WHERE id = ${id}`);
    expect(job!.last_error).toContain("chat not found");
    expect(job!.last_error).toContain("[REDACTED]");
    expect(job!.errors).toContain("Internal Server Error");
    expectNoSecret("jobs.last_error", job!.last_error);
    expectNoSecret("jobs.errors", job!.errors);
    for (const path of [`/admin/jobs/${id}`, "/admin/jobs?kind=notify.send", "/admin/queue"]) {
      const res = await client().call("GET", path, viewer);
      expect(res.status).toBe(200);
      expectNoSecret(path, res.text);
    }
  });

  test("setWebhook refused with an echo: the 502 body and audit_log.result hold no secret", async () => {
    api.failNext("setWebhook", { kind: "error", code: 400, description: echo("Bad Request: bad webhook") });
    const res = await client().call("POST", "/admin/webhook", operator, {});
    expect(res.status).toBe(502);
    expect(res.json.error).toContain("bad webhook");
    expectNoSecret("502 body", res.text);
    api.failNext("getWebhookInfo", { kind: "error", code: 500, description: echo("Internal Server Error") });
    const info = await client().call("GET", "/admin/webhook", viewer);
    expect(info.status).toBe(502);
    expectNoSecret("GET /admin/webhook 502", info.text);
    const audited = rows<{ result: string }>("SELECT result FROM audit_log WHERE action = 'webhook.set' ORDER BY id DESC LIMIT 1")[0]!;
    expect(audited.result).toContain("bad webhook");
    expectNoSecret("audit_log.result", audited.result);
    const listed = await client().call("GET", "/admin/audit", admin);
    expectNoSecret("GET /admin/audit", listed.text);
  });
});
