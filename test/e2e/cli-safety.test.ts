/**
 * The operator CLI cannot create or corrupt state by mistake (compiled binary, real files):
 * a missing database is refused, never created; run as root it acts as the database's owner and
 * leaves no root-owned file; permission problems say EACCES and the path; doctor reports an
 * unreadable credentials folder as a FAIL line; and the small ones (revoked names, revoking twice,
 * jobs retry output). Also `webhook set` keeping what it is not told to change.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { insertDeadJob } from "../support/db";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { BINARY, removeDir, runTgwh, tempDir, TEST_BOT_TOKEN, TEST_SECRET } from "../support/tgwh";

setDefaultTimeout(60_000);
const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;
let dir: string;
let api: FakeBotApi;
beforeAll(() => {
  dir = tempDir("tgwh-cli-safety-");
  chmodSync(dir, 0o755);
  api = startFakeBotApi();
});
afterAll(() => {
  api?.stop();
  if (dir) removeDir(dir);
});

/** Runs the binary in `cwd` (for the default ./data/tgwh.db). */
async function tgwhIn(cwd: string, args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([BINARY, ...args], { cwd, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}
/** As user nobody (setpriv, util-linux): an operator without rights on the service's files. */
async function asNobody(args: string[], env: Record<string, string>) {
  const proc = Bun.spawn(["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", BINARY, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}
const rootOwned = (d: string) => readdirSync(d).filter((f) => statSync(join(d, f)).uid === 0);

describe("a database that does not exist is refused, never created", () => {
  const commands: string[][] = [
    ["token", "list"],
    ["token", "create", "--name", "x", "--role", "admin"],
    ["token", "revoke", "x"],
    ["jobs", "ls"],
    ["jobs", "retry", "1"],
    ["webhook", "set"],
    ["webhook", "delete"],
    ["backup", "/tmp/never-written.db"],
    ["migrate", "--status"],
  ];
  for (const args of commands) {
    test(`TGWH_DB=/nope/x.db tgwh ${args.join(" ")} → exit 2 naming the path, nothing created`, async () => {
      const res = await runTgwh(args, { TGWH_DB: "/nope/x.db", TGWH_BOT_TOKEN: TEST_BOT_TOKEN, TGWH_WEBHOOK_SECRET: TEST_SECRET, TGWH_PUBLIC_URL: "https://bot.example.test", TGWH_TELEGRAM_API: api.url });
      expect(res.code).toBe(2);
      expect(res.stderr).toContain("database /nope/x.db does not exist");
      expect(res.stderr).toContain("tgwh migrate");
      expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(existsSync("/nope")).toBe(false);
    });
  }

  test("a plain `tgwh token create` in some directory does not write ./data/tgwh.db", async () => {
    const cwd = join(dir, "somewhere");
    mkdirSync(cwd);
    const res = await tgwhIn(cwd, ["token", "create", "--name", "alice", "--role", "admin"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`database ${join(cwd, "data/tgwh.db")} does not exist`);
    expect(readdirSync(cwd)).toEqual([]);
  });

  test("an empty file is not a tgwh database; `tgwh migrate` makes one, then the commands work", async () => {
    const d = join(dir, "empty");
    mkdirSync(d);
    const db = join(d, "tgwh.db");
    writeFileSync(db, "");
    const refused = await runTgwh(["token", "list"], { TGWH_DB: db });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("is not a tgwh database");
    expect((await runTgwh(["migrate"], { TGWH_DB: db })).code).toBe(0);
    const listed = await runTgwh(["token", "list"], { TGWH_DB: db });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain("no service accounts yet");
  });
});

(asRoot ? describe : describe.skip)("run as root, the CLI acts as the database's owner", () => {
  let state: string;
  let db: string;
  beforeAll(async () => {
    state = join(dir, "state");
    mkdirSync(state);
    chownSync(state, NOBODY, NOBODY);
    chmodSync(state, 0o750);
    db = join(state, "tgwh.db");
    expect((await runTgwh(["migrate"], { TGWH_DB: db })).code).toBe(0);
  });

  test("migrate, token, jobs, backup and doctor leave no root-owned file for the service to trip on", async () => {
    expect(statSync(db).uid).toBe(NOBODY); // created by migrate, as the directory's owner
    const env = { TGWH_DB: db };
    expect((await runTgwh(["token", "create", "--name", "ops", "--role", "operator"], env)).code).toBe(0);
    expect((await runTgwh(["jobs", "ls"], env)).code).toBe(0);
    expect((await runTgwh(["token", "revoke", "ops"], env)).code).toBe(0);
    expect((await runTgwh(["backup", join(state, "b.db")], env)).code).toBe(0);
    await runTgwh(["doctor"], env);
    expect(rootOwned(state)).toEqual([]);
    // The service's user can still write everything: open it as nobody and write.
    const res = await asNobody(["token", "create", "--name", "svc", "--role", "service"], env);
    expect(res.code, res.stderr).toBe(0);
  });

  test("another user without rights gets EACCES and the path, not 'does not exist'", async () => {
    chmodSync(state, 0o700);
    try {
      const res = await asNobody(["token", "list"], { TGWH_DB: join(dir, "locked/tgwh.db") });
      expect(res.code).toBe(2);
      // nobody cannot even look into a root-only directory on the way:
      mkdirSync(join(dir, "locked"), { mode: 0o700 });
      const denied = await asNobody(["token", "list"], { TGWH_DB: join(dir, "locked/tgwh.db") });
      expect(denied.code).toBe(2);
      expect(denied.stderr).toContain(`permission denied (EACCES) on ${join(dir, "locked")}`);
      expect(denied.stderr).toContain("sudo tgwh-admin");
      expect(denied.stderr).not.toContain("does not exist");
    } finally {
      chmodSync(state, 0o750);
    }
  });

  test("doctor as a user who cannot read the credentials folder: one FAIL line, no stack trace", async () => {
    const creds = join(dir, "credentials");
    mkdirSync(creds, { mode: 0o700 });
    writeFileSync(join(creds, "bot_token"), TEST_BOT_TOKEN, { mode: 0o600 });
    const res = await asNobody(["doctor"], { TGWH_DB: db, CREDENTIALS_DIRECTORY: creds });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(new RegExp(`^FAIL +credentials +cannot read ${creds} \\(EACCES\\)`, "m"));
    expect(res.stdout).toContain("sudo tgwh-admin doctor");
    expect(res.stderr).toBe("");
  });
});

describe("service accounts and retries say what happened", () => {
  let db: string;
  beforeAll(async () => {
    const d = join(dir, "accounts");
    mkdirSync(d);
    db = join(d, "tgwh.db");
    expect((await runTgwh(["migrate"], { TGWH_DB: db })).code).toBe(0);
  });

  test("revoking twice says it was already revoked; a revoked name is not reused and the message says why", async () => {
    const env = { TGWH_DB: db };
    expect((await runTgwh(["token", "create", "--name", "ci", "--role", "operator"], env)).code).toBe(0);
    expect((await runTgwh(["token", "revoke", "ci"], env)).stdout).toContain("revoked 'ci'");
    const twice = await runTgwh(["token", "revoke", "ci"], env);
    expect(twice.code).toBe(0);
    expect(twice.stdout).toMatch(/^'ci' was already revoked at \d{4}-.*; nothing changed$/m);
    const reuse = await runTgwh(["token", "create", "--name", "ci", "--role", "operator"], env);
    expect(reuse.code).toBe(1);
    expect(reuse.stderr).toContain("'ci' is the name of an account revoked at");
    expect(reuse.stderr).toContain("pick another, e.g. ci-2");
  });

  test("jobs retry: one line per job, the id said once", async () => {
    const id = insertDeadJob(db, { dedupeKey: "update:77", orderKey: "chat:77", payload: { update_id: 77 } });
    const res = await runTgwh(["jobs", "retry", String(id), String(id), "999999"], { TGWH_DB: db });
    expect(res.code).toBe(1);
    expect(res.stdout.trim().split("\n")).toEqual([`job ${id}: retried`, `job ${id}: not retried: it is pending, only dead jobs can be`, "job 999999: not retried: no such job"]);
  });
});

describe("webhook set keeps what it is not told to change, and checks what it is told", () => {
  let db: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    const d = join(dir, "webhook");
    mkdirSync(d);
    db = join(d, "tgwh.db");
    expect((await runTgwh(["migrate"], { TGWH_DB: db })).code).toBe(0);
    env = { TGWH_DB: db, TGWH_BOT_TOKEN: TEST_BOT_TOKEN, TGWH_WEBHOOK_SECRET: TEST_SECRET, TGWH_PUBLIC_URL: "https://bot.example.test", TGWH_TELEGRAM_API: api.url };
  });

  test("first registration: tgwh's defaults; later runs keep max_connections and allowed_updates", async () => {
    for (const k of Object.keys(api.webhookInfo)) delete api.webhookInfo[k];
    Object.assign(api.webhookInfo, { url: "", has_custom_certificate: false, pending_update_count: 0 });
    const first = await runTgwh(["webhook", "set", "--json"], env);
    expect(first.code, first.stderr).toBe(0);
    expect(api.callsOf("setWebhook").at(-1)!.payload).toMatchObject({ max_connections: 40, allowed_updates: ["message", "edited_message", "callback_query", "my_chat_member"] });

    expect((await runTgwh(["webhook", "set", "--max-connections", "25", "--allowed-updates", "message,callback_query,chat_member"], env)).code).toBe(0);
    const again = await runTgwh(["webhook", "set"], env);
    expect(again.code).toBe(0);
    expect(api.callsOf("setWebhook").at(-1)!.payload).toMatchObject({ max_connections: 25, allowed_updates: ["message", "callback_query", "chat_member"] });
    expect(again.stdout).toContain("(kept: max_connections, allowed_updates)");
    // Only one of them changed: the other is kept.
    expect((await runTgwh(["webhook", "set", "--max-connections", "60"], env)).code).toBe(0);
    expect(api.callsOf("setWebhook").at(-1)!.payload).toMatchObject({ max_connections: 60, allowed_updates: ["message", "callback_query", "chat_member"] });
  });

  test("an unknown update type or a port Telegram never calls: exit 2, nothing sent", async () => {
    const before = api.callsOf("setWebhook").length;
    const typo = await runTgwh(["webhook", "set", "--allowed-updates", "mesage,callback_query"], env);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown update type 'mesage' (did you mean 'message'?)");
    const port = await runTgwh(["webhook", "set"], { ...env, TGWH_PUBLIC_URL: "https://bot.example.test:8080" });
    expect(port.code).toBe(2);
    expect(port.stderr).toContain("ports 443, 80, 88, 8443");
    expect(api.callsOf("setWebhook").length).toBe(before);
    for (const ok of ["https://bot.example.test:8443", "https://bot.example.test:88"]) {
      expect((await runTgwh(["webhook", "set"], { ...env, TGWH_PUBLIC_URL: ok })).code).toBe(0);
    }
  });

  test("webhook info reads Telegram only: it needs no database", async () => {
    const res = await runTgwh(["webhook", "info"], { ...env, TGWH_DB: "/nope/x.db" });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain("url:");
  });

  test("an unknown option is exit 2 with the usage", async () => {
    const res = await runTgwh(["webhook", "set", "--max-conections", "5"], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("unknown option '--max-conections'");
    expect(res.stderr).toContain("usage: tgwh webhook set");
  });
});
