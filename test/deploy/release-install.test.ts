/**
 * The README's five deploy commands, end to end, in a staged VM root: `make release`, the copy,
 * the checksum and unpack, install.sh from the unpacked release (real nginx, certbot --webroot
 * against pebble, the compiled binary, the fake Bot API) and `tgwh-admin smoke --chat`. Each
 * command is timed; the figures go to docs/deploy.md. Then idempotence, a failing step that names
 * itself, and --uninstall deleting the webhook.
 *
 * Each command is the README's line itself, run by bash, changed only as `stagedLine` says: the
 * example names become the test's, `sudo` is dropped (the test runs as root, with the stage's
 * environment) and the staging options are appended.
 *
 * What differs from a VM, and why: the machine runs no systemd, so test/support/stage-systemctl.sh
 * stands in for systemctl (it runs the installed binary and the backup unit's command as root,
 * without the units' sandboxing); `scp` is a local copy; nginx listens on a loopback address of
 * its own, HTTPS on 8443 (a port Telegram accepts), so nothing on the machine's 80/443 is touched.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { removeDir, tempDir, TEST_BOT_TOKEN } from "../support/tgwh";
import { freePort, missingPrograms, openUp, REPO, startNginx, startPebble, TEST_HOST, type Nginx, type Pebble } from "../support/tls-stack";

setDefaultTimeout(180_000);
const missing = missingPrograms(["nginx", "certbot", "pebble", "openssl", "curl", "sha256sum", "make"]);
if (missing.length > 0) console.warn(`SKIPPED test/deploy/release-install.test.ts: missing ${missing.join(", ")} (.ci/run installs them)`);
const maybe = missing.length > 0 ? describe.skip : describe;

const VERSION = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version as string;
const RELEASE = `tgwh-${VERSION}-linux-x64`;
const CHAT = "4242";
const EMAIL = "ops@tg.test";

/** The fenced block after the README's deploy-commands marker: one command per line, comments cut. */
export function readmeDeployCommands(readme: string): string[] {
  const at = readme.indexOf("<!-- deploy-commands");
  if (at < 0) throw new Error("README.md has no deploy-commands block");
  const block = readme.slice(readme.indexOf("```sh", at) + 5, readme.indexOf("```", readme.indexOf("```sh", at) + 5));
  return block
    .split("\n")
    .map((l) => l.replace(/\s+#.*$/, "").trim())
    .filter(Boolean);
}

const readmeLines = () => readmeDeployCommands(readFileSync(join(REPO, "README.md"), "utf8"));
const shellWord = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * README deploy line `n` (1-5) as the staged VM runs it: `sudo ` dropped, each example name swapped
 * for the test's (the line must still hold it), the staging options appended. Run with bash.
 */
function stagedLine(n: number, swaps: [string, string][] = [], append: string[] = []): string {
  let line = readmeLines()[n - 1]!.replace(/^sudo /, "");
  for (const [from, to] of swaps) {
    if (!line.includes(from)) throw new Error(`README deploy line ${n} no longer holds '${from}': ${line}`);
    line = line.replaceAll(from, to);
  }
  return [line, ...append.map(shellWord)].join(" ");
}

let dir: string;
let root: string;
let api: FakeBotApi;
let pebble: Pebble;
let nginx: Nginx;
let listenAddress: string;
let stageEnv: Record<string, string>;
const timings: { n: number; command: string; seconds: number }[] = [];

async function sh(cmd: string[], opts: { cwd?: string; env?: Record<string, string>; stdin?: string } = {}) {
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd,
    env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin`, HOME: dir, ...opts.env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err, all: out + err };
}
async function timed(n: number, command: string, cmd: string[], opts: Parameters<typeof sh>[1] = {}) {
  const started = performance.now();
  const res = await sh(cmd, opts);
  timings.push({ n, command, seconds: (performance.now() - started) / 1000 });
  return res;
}
const vmHome = () => join(dir, "vm-home");
/** install.sh of the unpacked release again, as a later run would (finished steps are skipped). */
const install = (args: string[], stdin?: string) =>
  sh([join(vmHome(), RELEASE, "install.sh"), "--prefix", root, "--start", "--acme-server", pebble.directoryUrl, ...args], { env: stageEnv, stdin });
/** What tgwh-admin needs to find the staged install instead of /etc/tgwh, /usr/local/bin and /var/lib/tgwh. */
const adminEnv = () => ({ ...stageEnv, TGWH_ETC: join(root, "etc/tgwh"), TGWH_BIN: join(root, "usr/local/bin/tgwh"), TGWH_DB: join(root, "var/lib/tgwh/tgwh.db") });
/** Line 4 with the test's host name and e-mail, against the stage and the ACME server. */
const installLine = () =>
  stagedLine(4, [["bot.example.com", TEST_HOST], ["ops@example.com", EMAIL]], ["--prefix", root, "--start", "--acme-server", pebble.directoryUrl]);
const servicePid = () => (existsSync(join(root, "run/tgwh.pid")) ? Number(readFileSync(join(root, "run/tgwh.pid"), "utf8")) : null);

maybe("the README's five commands on a staged VM", () => {
  beforeAll(async () => {
    dir = tempDir("tgwh-release-");
    openUp(dir);
    root = join(dir, "vm");
    mkdirSync(join(root, "etc/nginx/sites-enabled"), { recursive: true });
    mkdirSync(join(root, "etc/tgwh"), { recursive: true });
    mkdirSync(vmHome());
    openUp(root);
    api = startFakeBotApi();
    pebble = await startPebble(join(dir, "pebble"));
    // The operator's own setting, kept by install.sh: where the Bot API is (here: the fake one).
    writeFileSync(join(root, "etc/tgwh/tgwh.env"), `TGWH_TELEGRAM_API=${api.url}\nTGWH_SEND_PER_SECOND=0\n`);
    // The VM's nginx, as Debian's package leaves it running: a default site, and sites-enabled/ included.
    const bin = join(dir, "bin");
    mkdirSync(bin);
    copyFileSync(join(REPO, "test/support/stage-systemctl.sh"), join(bin, "systemctl"));
    await sh(["chmod", "0755", join(bin, "systemctl")]);
    for (let attempt = 1; ; attempt++) {
      listenAddress = `127.${20 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
      const [defaultPort, httpPort] = [await freePort(), await freePort()];
      const defaultSite = join(dir, `default-site-${attempt}.conf`);
      writeFileSync(defaultSite, `server { listen 127.0.0.1:${defaultPort} default_server; return 444; }\n`);
      stageEnv = {
        PATH: `${bin}:${process.env.PATH}:/usr/sbin:/sbin`,
        HOME: dir,
        STAGE_ROOT: root,
        STAGE_RUN: join(root, "run"),
        STAGE_LISTEN: `127.0.0.1:${await freePort()}`,
        LISTEN_ADDRESS: listenAddress,
        HTTP_PORT: String(httpPort),
        HTTPS_PORT: "8443",
        REQUESTS_CA_BUNDLE: pebble.apiCertPath,
        // The smoke test trusts the ACME server's root, as a VM trusts Let's Encrypt's.
        NODE_EXTRA_CA_CERTS: pebble.rootPemPath,
      };
      stageEnv.UPSTREAM = stageEnv.STAGE_LISTEN!;
      try {
        nginx = await startNginx(join(dir, `nginx-${attempt}`), join(root, "etc/nginx/sites-enabled"), defaultSite, [defaultPort]);
        Object.assign(stageEnv, nginx.hookEnv);
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  });

  afterAll(async () => {
    const pid = servicePid();
    if (pid && existsSync(`/proc/${pid}`)) {
      process.kill(pid, "SIGTERM");
      for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await Bun.sleep(50);
      if (existsSync(`/proc/${pid}`)) process.kill(pid, "SIGKILL");
    }
    await nginx?.stop();
    await pebble?.stop();
    api?.stop();
    if (timings.length) {
      console.log(`five README commands, timed:\n${timings.map((t) => `  ${t.n}. ${t.seconds.toFixed(1).padStart(5)} s  ${t.command}`).join("\n")}`);
    }
    if (dir) removeDir(dir);
  });

  test("the README block is the five commands this test runs", () => {
    expect(readmeLines()).toEqual([
      "make release",
      `scp dist/${RELEASE}.tar.gz* admin@bot.example.com:`,
      `sha256sum -c ${RELEASE}.tar.gz.sha256 && tar xzf ${RELEASE}.tar.gz`,
      `sudo ${RELEASE}/install.sh --server-name bot.example.com --email ops@example.com`,
      "sudo tgwh-admin smoke --chat 123456789",
    ]);
  });

  test("1-3: make release, copy, verify and unpack: binary, install.sh, deploy/ and docs, no Node.js needed", async () => {
    // In the checkout; the release goes to the test's own dist/ instead of the checkout's.
    const build = join(dir, "dist");
    const made = await timed(1, "make release", ["bash", "-c", stagedLine(1, [], ["-s", `RELEASE_DIR=${build}`])], { cwd: REPO });
    expect(made.code, made.all).toBe(0);
    expect(readdirSync(build).sort()).toEqual([`${RELEASE}.tar.gz`, `${RELEASE}.tar.gz.sha256`]);

    // scp in the README; a local copy here (no SSH server in the test), from beside the test's dist/.
    const copied = await timed(2, "scp (a local cp here)", ["bash", "-c", stagedLine(2, [["scp ", "cp "], ["admin@bot.example.com:", `${vmHome()}/`]])], { cwd: dir });
    expect(copied.code, copied.all).toBe(0);

    const line3 = stagedLine(3);
    const unpacked = await timed(3, "sha256sum -c && tar xzf", ["bash", "-c", line3], { cwd: vmHome() });
    expect(unpacked.code, unpacked.all).toBe(0);
    expect(unpacked.out).toContain(`${RELEASE}.tar.gz: OK`);
    const top = join(vmHome(), RELEASE);
    for (const f of ["tgwh", "install.sh", "deploy/install.sh", "deploy/systemd/tgwh.service", "deploy/systemd/tgwh-backup.timer", "deploy/render.sh", "docs/deploy.md", "README.md"]) {
      expect({ f, exists: existsSync(join(top, f)) }).toEqual({ f, exists: true });
    }
    expect(statSync(join(top, "tgwh")).mode & 0o111).not.toBe(0);
    expect((await sh([join(top, "tgwh"), "version"])).out).toContain(`tgwh ${VERSION}`);

    // A corrupted download is caught by step 3.
    const bad = join(dir, "bad");
    mkdirSync(bad);
    await sh(["sh", "-c", `cp ${build}/${RELEASE}.tar.gz* ${bad}/ && printf x >> ${bad}/${RELEASE}.tar.gz`]);
    expect((await sh(["bash", "-c", line3], { cwd: bad })).code).not.toBe(0);
  });

  test("4: install.sh from the release: packages, files, service, certificate, HTTPS, webhook, smoke, backups", async () => {
    const res = await timed(4, "install.sh --server-name --email (token on stdin)", ["bash", "-c", installLine()], { cwd: vmHome(), env: stageEnv, stdin: `${TEST_BOT_TOKEN}\n` });
    if (process.env.SHOW_INSTALL) console.log(res.all);
    expect(res.code, res.all).toBe(0);
    for (const step of ["packages", "files", "service", "certificate", "https", "webhook", "smoke", "backups"]) expect(res.out).toContain(`install.sh: step ${step}`);
    expect(res.all).not.toContain(TEST_BOT_TOKEN);
    const secret = readFileSync(join(root, "etc/tgwh/credentials/webhook_secret"), "utf8");
    expect(res.all).not.toContain(secret);
    expect(readFileSync(join(root, "etc/tgwh/credentials/bot_token"), "utf8")).toBe(TEST_BOT_TOKEN);
    expect(statSync(join(root, "etc/tgwh/credentials/bot_token")).mode & 0o777).toBe(0o600);

    // certbot --webroot got the certificate from the ACME server; nginx serves it on the public port.
    expect(existsSync(join(root, "etc/letsencrypt/live", TEST_HOST, "fullchain.pem"))).toBe(true);
    expect(readFileSync(join(root, "etc/tgwh/tgwh.env"), "utf8")).toContain(`TGWH_PUBLIC_URL=https://${TEST_HOST}:8443`);
    expect(readFileSync(join(root, "etc/tgwh/tgwh.env"), "utf8")).toContain(`TGWH_TELEGRAM_API=${api.url}`);

    // Registered at Telegram with the installed secret and tgwh's defaults.
    const set = api.callsOf("setWebhook").at(-1)!;
    expect(set.payload).toMatchObject({ url: `https://${TEST_HOST}:8443/telegram/webhook`, secret_token: secret, max_connections: 40 });
    expect(set.token).toBe(TEST_BOT_TOKEN);
    // The smoke step: certificate OK, a signed update through nginx processed; delivery left for step 5.
    expect(res.out).toMatch(/OK +tls +TLSv1\.[23]/);
    expect(res.out).toMatch(/OK +processed +update \d+ done/);
    expect(res.out).toContain("delivery was not checked");
    expect(readFileSync(join(root, "run/systemctl.log"), "utf8")).toContain("enable --now tgwh-backup.timer");
  });

  test("5: tgwh-admin smoke --chat proves delivery with a token of its own, revoked afterwards", async () => {
    const before = api.callsOf("sendMessage").length;
    // --resolve: the stage's nginx listens on a loopback address of its own, not on 127.0.0.1 (the default).
    const line5 = stagedLine(5, [["tgwh-admin", join(root, "usr/local/sbin/tgwh-admin")], ["123456789", CHAT]], ["--resolve", listenAddress]);
    const res = await timed(5, "tgwh-admin smoke --chat", ["bash", "-c", line5], { env: adminEnv() });
    expect(res.code, res.all).toBe(0);
    expect(res.out).toMatch(/OK +notification +delivered to chat 4242/);
    expect(res.out).toMatch(/OK +token +used its own operator token 'smoke-\S+', now revoked/);
    expect(api.callsOf("sendMessage").slice(before).some((c) => String(c.payload.chat_id) === CHAT)).toBe(true);
    const db = new Database(join(root, "var/lib/tgwh/tgwh.db"), { readonly: true });
    try {
      const live = db.query("SELECT count(*) AS n FROM service_accounts WHERE name LIKE 'smoke-%' AND revoked_at IS NULL").get() as { n: number };
      expect(live.n).toBe(0);
    } finally {
      db.close();
    }
  });

  test("idempotent: the same install.sh again changes nothing and asks for nothing", async () => {
    const pid = servicePid();
    const creds = ["bot_token", "webhook_secret", "session_secret"].map((n) => readFileSync(join(root, "etc/tgwh/credentials", n), "utf8"));
    const sets = api.callsOf("setWebhook").length;
    const again = await sh(["bash", "-c", installLine()], { cwd: vmHome(), env: stageEnv });
    expect(again.code, again.all).toBe(0);
    expect(again.out).toContain(`certificate for ${TEST_HOST} is there`);
    expect(again.out).not.toMatch(/wrote credential|generated credential|installed \/usr\/local\/bin\/tgwh/);
    expect(servicePid()).toBe(pid); // nothing changed: no restart
    expect(["bot_token", "webhook_secret", "session_secret"].map((n) => readFileSync(join(root, "etc/tgwh/credentials", n), "utf8"))).toEqual(creds);
    expect(api.callsOf("setWebhook").length).toBe(sets + 1); // setWebhook is idempotent at Telegram
  });

  test("a failing step names itself and what to do; the same command then finishes", async () => {
    api.failNext("setWebhook", { kind: "error", code: 400, description: "Bad Request: bad webhook: Failed to resolve host" });
    const failed = await install([]);
    expect(failed.code).toBe(1);
    expect(failed.err).toContain("step 'webhook' failed");
    expect(failed.err).toContain("run the same install.sh command again");
    expect(failed.all).toContain("Failed to resolve host");
    expect(failed.out).not.toContain("install.sh: step smoke");
    const fixed = await install([]);
    expect(fixed.code, fixed.all).toBe(0);
    expect(fixed.out).toContain("passed the smoke test");
  });

  test("the hourly backup unit's command writes a 0600 copy in the backups folder", async () => {
    const res = await sh(["systemctl", "start", "tgwh-backup.service"], { env: stageEnv });
    expect(res.code, res.all + readFileSync(join(root, "run/backup.log"), "utf8")).toBe(0);
    const files = readdirSync(join(root, "var/backups/tgwh")).filter((f) => /^tgwh-\d{8}T\d{6}Z\.db$/.test(f));
    expect(files.length).toBe(1);
    expect(statSync(join(root, "var/backups/tgwh", files[0]!)).mode & 0o777).toBe(0o600);
  });

  test("--uninstall deletes the webhook at Telegram, stops the service, keeps the data", async () => {
    const res = await install(["--uninstall"]);
    expect(res.code, res.all).toBe(0);
    expect(res.out).toContain("deleted the webhook at Telegram");
    expect(api.callsOf("deleteWebhook").length).toBeGreaterThan(0);
    expect(api.webhookInfo.url).toBe("");
    expect(servicePid()).toBeNull();
    expect(existsSync(join(root, "usr/local/bin/tgwh"))).toBe(false);
    expect(existsSync(join(root, "var/lib/tgwh/tgwh.db"))).toBe(true);
  });
});
