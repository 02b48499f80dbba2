import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, lstatSync, readdirSync, statSync, symlinkSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { insertDeadJob } from "../support/db";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { removeDir, runTgwh, startTgwh, TEST_BOT_TOKEN, TEST_SECRET, waitFor, type TgwhProcess } from "../support/tgwh";

// Timeouts are ceilings, not performance assertions: each test spawns the 100 MB binary several times; on a loaded 2-core CI box that takes seconds.
setDefaultTimeout(60_000);

/** The operator CLI against the compiled binary, on the database of a running service. */

const PUBLIC_URL = "https://bot.example.test";
let api: FakeBotApi;
let tgwh: TgwhProcess;
let env: Record<string, string>;
const outputs: string[] = [];

async function tgwhCli(args: string[], extraEnv: Record<string, string | undefined> = {}) {
  const res = await runTgwh(args, { ...env, ...extraEnv });
  outputs.push(res.stdout, res.stderr);
  return res;
}

beforeAll(async () => {
  api = startFakeBotApi();
  tgwh = await startTgwh({ env: { TGWH_TELEGRAM_API: api.url, TGWH_PUBLIC_URL: PUBLIC_URL } });
  env = { TGWH_DB: tgwh.dbPath, TGWH_TELEGRAM_API: api.url, TGWH_PUBLIC_URL: PUBLIC_URL, TGWH_BOT_TOKEN: TEST_BOT_TOKEN, TGWH_WEBHOOK_SECRET: TEST_SECRET };
}, 30_000);

afterAll(async () => {
  await tgwh?.stop();
  api?.stop();
  if (tgwh) removeDir(tgwh.dir);
});

describe("usage and exit codes", () => {
  for (const cmd of ["token", "jobs", "webhook", "backup"]) {
    test(`tgwh ${cmd} --help → 0 with its usage`, async () => {
      const res = await tgwhCli([cmd, "--help"]);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain(`tgwh ${cmd}`);
    });
  }
  test("the command list names them all", async () => {
    const res = await tgwhCli(["--help"]);
    for (const cmd of ["token", "jobs", "webhook", "backup"]) expect(res.stdout).toContain(`  ${cmd} `);
  });
  const usageErrors: [string[], string][] = [
    [["token"], "missing subcommand"],
    [["token", "rotate"], "unknown token subcommand"],
    [["token", "create", "--role", "admin"], "--name is required"],
    [["token", "create", "--name", "x", "--role", "root"], "--role must be one of"],
    [["token", "create", "--name", "bad name", "--role", "viewer"], "name must be"],
    [["token", "list", "--bogus"], "unknown option '--bogus'"],
    [["jobs", "ls", "--state", "lost"], "--state must be one of"],
    [["jobs", "ls", "--limit", "0"], "--limit must be"],
    [["jobs", "retry"], "needs job ids"],
    [["jobs", "retry", "abc"], "not a job id"],
    [["webhook", "sett"], "unknown webhook subcommand"],
    [["webhook", "set", "--max-connections", "500"], "--max-connections"],
    [["backup"], "needs the target FILE"],
  ];
  for (const [args, message] of usageErrors) {
    test(`tgwh ${args.join(" ")} → 2`, async () => {
      const res = await tgwhCli(args);
      expect(res.code).toBe(2);
      expect(res.stderr).toContain(message);
      expect(res.stderr).toContain("usage:");
    });
  }
  test("a configuration problem is exit 2 too", async () => {
    const res = await tgwhCli(["webhook", "set"], { TGWH_PUBLIC_URL: undefined });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("TGWH_PUBLIC_URL");
  });
});

describe("tgwh token", () => {
  test("create prints the token once; list never shows it; revoke stops it", async () => {
    const created = await tgwhCli(["token", "create", "--name", "cli-ops", "--role", "operator", "--json"]);
    expect(created.code).toBe(0);
    const { token, account } = JSON.parse(created.stdout);
    expect(token).toMatch(/^tgwh_[A-Za-z0-9_-]{43}$/);
    expect(account).toMatchObject({ name: "cli-ops", role: "operator", revokedAt: null });
    const hash = new Bun.CryptoHasher("sha256").update(token).digest("hex");
    const stored = new Database(tgwh.dbPath, { readonly: true });
    try {
      const row = stored.query("SELECT token_hash FROM service_accounts WHERE name = 'cli-ops'").get() as { token_hash: string };
      expect(row.token_hash).toBe(hash);
    } finally {
      stored.close();
    }
    expect((await fetch(`${tgwh.url}/admin/queue`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

    const human = await tgwhCli(["token", "create", "--name", "cli-viewer", "--role", "viewer"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/\ntgwh_[A-Za-z0-9_-]{43}\n?$/);

    const dup = await tgwhCli(["token", "create", "--name", "cli-ops", "--role", "viewer"]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("already exists");

    const list = await tgwhCli(["token", "list", "--json"]);
    expect(list.code).toBe(0);
    expect(list.stdout).not.toContain(token);
    expect(list.stdout).not.toContain(hash);
    expect(JSON.parse(list.stdout).accounts.map((a: { name: string }) => a.name)).toEqual(["cli-ops", "cli-viewer"]);
    expect((await tgwhCli(["token", "list"])).stdout).toContain("cli-viewer");

    const revoked = await tgwhCli(["token", "revoke", "cli-ops"]);
    expect(revoked.code).toBe(0);
    expect((await fetch(`${tgwh.url}/admin/queue`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    expect(JSON.parse((await tgwhCli(["token", "list", "--json"])).stdout).accounts[0].revokedAt).not.toBeNull();

    const unknown = await tgwhCli(["token", "revoke", "nobody"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no service account named 'nobody'");
  });
});

describe("tgwh jobs", () => {
  test("ls shows a dead job; retry sends it back and the running service completes it", async () => {
    const id = insertDeadJob(tgwh.dbPath, { dedupeKey: "notify:cli-dead", orderKey: "send:chat:31", payload: { chatId: 31, text: "from the cli" } });
    const ls = await tgwhCli(["jobs", "ls", "--state", "dead", "--json"]);
    expect(ls.code).toBe(0);
    const jobs = JSON.parse(ls.stdout).jobs as { id: number; state: string; lastError: string; payload?: unknown }[];
    expect(jobs.map((j) => j.id)).toEqual([id]);
    expect(jobs[0]!.payload).toBeUndefined();
    expect((await tgwhCli(["jobs", "ls", "--state", "dead"])).stdout).toContain("Bad Gateway (502)");
    const discarded = await tgwhCli(["jobs", "ls", "--state", "discarded", "--json"]);
    expect(discarded.code).toBe(0);
    expect(JSON.parse(discarded.stdout).jobs).toEqual([]);

    const retry = await tgwhCli(["jobs", "retry", String(id), "--json"]);
    expect(retry.code).toBe(0);
    expect(JSON.parse(retry.stdout).results).toEqual([{ id, outcome: "retried" }]);
    await waitFor(() => api.callsOf("sendMessage").some((c) => c.payload.text === "from the cli"), 10_000, "the retried job to send");

    const again = await tgwhCli(["jobs", "retry", String(id)]);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe(`job ${id}: not retried: it is done, only dead jobs can be\n`);
    const missing = await tgwhCli(["jobs", "retry", "987654"]);
    expect(missing.code).toBe(1);
  });

  test("retry --all-dead works in bounded batches; ls pages with --cursor", async () => {
    for (let i = 0; i < 3; i++) insertDeadJob(tgwh.dbPath, { dedupeKey: `notify:cli-batch-${i}`, payload: { chatId: 500 + i, text: `batch ${i}` } });
    const first = await tgwhCli(["jobs", "retry", "--all-dead", "--limit", "2", "--json"]);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ remaining: 1 });
    expect(JSON.parse(first.stdout).retried).toHaveLength(2);
    const second = await tgwhCli(["jobs", "retry", "--all-dead"]);
    expect(second.stdout).toContain("retried 1 dead job");

    const page1 = JSON.parse((await tgwhCli(["jobs", "ls", "--limit", "2", "--json"])).stdout);
    expect(page1.jobs).toHaveLength(2);
    const page2 = JSON.parse((await tgwhCli(["jobs", "ls", "--limit", "2", "--cursor", page1.nextCursor, "--json"])).stdout);
    expect(page2.jobs[0].id).toBeLessThan(page1.jobs[1].id);
  });
});

describe("tgwh webhook", () => {
  test("set registers the public URL with the secret; info and delete", async () => {
    const set = await tgwhCli(["webhook", "set", "--max-connections", "25", "--allowed-updates", "message,callback_query", "--json"]);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ url: `${PUBLIC_URL}/telegram/webhook`, maxConnections: 25, allowedUpdates: ["message", "callback_query"] });
    expect(api.callsOf("setWebhook").at(-1)!.payload).toMatchObject({ url: `${PUBLIC_URL}/telegram/webhook`, secret_token: TEST_SECRET, max_connections: 25 });

    const info = await tgwhCli(["webhook", "info", "--json"]);
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ expectedUrl: `${PUBLIC_URL}/telegram/webhook`, telegram: { pendingUpdateCount: 0 } });
    expect((await tgwhCli(["webhook", "info"])).stdout).toContain("expected url:");

    const del = await tgwhCli(["webhook", "delete", "--drop-pending-updates"]);
    expect(del.code).toBe(0);
    expect(api.callsOf("deleteWebhook").at(-1)!.payload).toMatchObject({ drop_pending_updates: true });
  });

  test("Telegram refusing is exit 1 with its description", async () => {
    api.failNext("setWebhook", { kind: "error", code: 400, description: "Bad Request: bad webhook: Failed to resolve host" });
    const res = await tgwhCli(["webhook", "set"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("Failed to resolve host");
  });

  test("a missing bot token is a configuration error", async () => {
    const res = await tgwhCli(["webhook", "info"], { TGWH_BOT_TOKEN: undefined });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("TGWH_BOT_TOKEN");
  });
});

describe("tgwh backup", () => {
  test("writes a consistent copy while the service runs; never overwrites", async () => {
    const target = join(tgwh.dir, "backup.db");
    const res = await tgwhCli(["backup", target, "--json"]);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ file: target, check: "ok" });
    const copy = new Database(target, { readonly: true });
    try {
      expect((copy.query("SELECT count(*) AS n FROM service_accounts").get() as { n: number }).n).toBe(2);
      expect((copy.query("SELECT count(*) AS n FROM jobs WHERE dedupe_key = 'notify:cli-dead'").get() as { n: number }).n).toBe(1);
    } finally {
      copy.close();
    }
    expect(existsSync(`${target}-wal`)).toBe(false);
    const again = await tgwhCli(["backup", target]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("exists");
    expect((await fetch(`${tgwh.url}/readyz`)).status).toBe(200);
  });

  test("the copy is 0600 whatever the umask, and the backup is audited with the operator behind sudo", async () => {
    const target = join(tgwh.dir, "backup-private.db");
    const before = process.umask(0o022);
    try {
      const res = await tgwhCli(["backup", target], { SUDO_USER: "alice" });
      expect(res.code).toBe(0);
    } finally {
      process.umask(before);
    }
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(readdirSync(tgwh.dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
    const db = new Database(tgwh.dbPath, { readonly: true });
    try {
      const row = db.query("SELECT actor, target, result FROM audit_log WHERE action = 'backup' ORDER BY id DESC LIMIT 1").get() as { actor: string; target: string; result: string };
      expect(row).toEqual({ actor: `cli:alice (sudo as ${userInfo().username})`, target, result: "ok" });
    } finally {
      db.close();
    }
  });

  test("a symlink at the target, even a dangling one, is refused and not followed", async () => {
    const elsewhere = join(tgwh.dir, "planted-by-someone-else.db");
    const link = join(tgwh.dir, "backup-link.db");
    symlinkSync(elsewhere, link);
    const res = await tgwhCli(["backup", link]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("symlink");
    expect(existsSync(elsewhere)).toBe(false);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });
});

describe("audit and secrets", () => {
  test("the CLI's changes are in the audit log as cli:<user>", () => {
    const db = new Database(tgwh.dbPath, { readonly: true });
    try {
      const rows = db.query("SELECT actor, action, result FROM audit_log ORDER BY id").all() as { actor: string; action: string; result: string }[];
      const cli = rows.filter((r) => r.actor.startsWith("cli:"));
      const actions = new Set(cli.map((r) => `${r.action}:${r.result.startsWith("ok") ? "ok" : "error"}`));
      for (const a of ["service_accounts.create:ok", "service_accounts.revoke:ok", "service_accounts.create:error", "jobs.retry:ok", "jobs.retry:error", "jobs.retry_dead:ok", "webhook.set:ok", "webhook.set:error", "webhook.delete:ok"]) {
        expect({ a, present: actions.has(a) }).toEqual({ a, present: true });
      }
    } finally {
      db.close();
    }
  });
  test("no output ever showed the bot token or the webhook secret", () => {
    const all = outputs.join("\n");
    expect(all).not.toContain(TEST_BOT_TOKEN);
    expect(all).not.toContain(TEST_SECRET);
  });
});
