/**
 * deploy/install.sh --prefix into a temp root: every file, owner and mode; idempotence; secrets
 * never printed; --uninstall keeps the data. And the systemd units as systemd-analyze sees them.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { startFakeBotApi } from "../support/fake-bot-api";
import { BINARY, removeDir, tempDir, TEST_BOT_TOKEN } from "../support/tgwh";
import { missingPrograms, REPO, run } from "../support/tls-stack";

const INSTALL = join(REPO, "deploy/install.sh");
setDefaultTimeout(30_000);
const asRoot = process.getuid?.() === 0;
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));
const newRoot = () => {
  const d = tempDir("tgwh-install-");
  dirs.push(d);
  return d;
};
// A small stand-in for dist/tgwh: install.sh copies whatever it is given, and copying the 100 MB
// binary a dozen times would only slow the suite (other tests may also rebuild it meanwhile).
const binDir = newRoot();
const binary = join(binDir, "tgwh");
writeFileSync(binary, "#!/bin/sh\necho 'tgwh stand-in for install tests'\n");
chmodSync(binary, 0o755);
const install = (root: string, args: string[] = [], stdin?: string) => run([INSTALL, "--prefix", root, "--binary", binary, ...args], {}, stdin);

/** Path → [mode, owner] for everything install.sh lays down (owner checked only when run as root). */
const EXPECTED: Record<string, [number, string]> = {
  "usr/local/bin/tgwh": [0o755, "root"],
  "etc/systemd/system/tgwh.service": [0o644, "root"],
  "etc/systemd/system/tgwh@.service": [0o644, "root"],
  "etc/systemd/system/tgwh-backup.service": [0o644, "root"],
  "etc/systemd/system/tgwh-backup.timer": [0o644, "root"],
  "etc/systemd/system/tgwh-backup-offsite.service": [0o644, "root"],
  "etc/tgwh/restic.env.example": [0o644, "root"],
  "etc/tmpfiles.d/tgwh.conf": [0o644, "root"],
  "etc/sysusers.d/tgwh.conf": [0o644, "root"],
  "etc/tgwh": [0o755, "root"],
  "etc/tgwh/tgwh.env": [0o644, "root"],
  "etc/tgwh/deploy.env": [0o644, "root"],
  "etc/tgwh/credentials": [0o700, "root"],
  "etc/tgwh/credentials/bot_token": [0o600, "root"],
  "etc/tgwh/credentials/webhook_secret": [0o600, "root"],
  "etc/tgwh/credentials/webhook_secret_old": [0o600, "root"],
  "etc/tgwh/credentials/session_secret": [0o600, "root"],
  "etc/tgwh/credentials/database_url": [0o600, "root"],
  "etc/tgwh/credentials/redis_url": [0o600, "root"],
  "etc/nginx/sites-available/tgwh.conf": [0o644, "root"],
  "etc/nginx/sites-available/tgwh-http.conf": [0o644, "root"],
  "etc/nginx/snippets/tgwh/telegram-ips.conf": [0o644, "root"],
  "etc/nginx/snippets/tgwh/tls.conf": [0o644, "root"],
  "etc/nginx/snippets/tgwh/proxy.conf": [0o644, "root"],
  "etc/nginx/snippets/tgwh/admin-allow.conf": [0o644, "root"],
  "etc/nginx/snippets/tgwh/upstream.conf": [0o644, "root"],
  "etc/letsencrypt/renewal-hooks/deploy/tgwh-reload-nginx.sh": [0o755, "root"],
  "usr/local/sbin/tgwh-admin": [0o755, "root"],
  "var/lib/tgwh": [0o750, "any"],
  "var/backups/tgwh": [0o750, "any"],
  "var/www/letsencrypt": [0o755, "root"],
};

describe("deploy/install.sh --prefix", () => {
  test("lays down every file with its mode and owner, writes credentials without printing them", async () => {
    const root = newRoot();
    const res = await install(root, ["--server-name", "tg.test", "--bot-token-file", "-"], `${TEST_BOT_TOKEN}\n`);
    expect(res.code).toBe(0);
    for (const [path, [mode, owner]] of Object.entries(EXPECTED)) {
      const full = join(root, path);
      expect(existsSync(full), path).toBe(true);
      const st = statSync(full);
      expect({ path, mode: (st.mode & 0o777).toString(8) }).toEqual({ path, mode: mode.toString(8) });
      if (asRoot && owner === "root") expect({ path, uid: st.uid, gid: st.gid }).toEqual({ path, uid: 0, gid: 0 });
    }
    expect(readFileSync(join(root, "etc/tgwh/credentials/bot_token"), "utf8")).toBe(TEST_BOT_TOKEN);
    expect(readFileSync(join(root, "etc/tgwh/credentials/webhook_secret"), "utf8")).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(readFileSync(join(root, "etc/tgwh/credentials/session_secret"), "utf8").length).toBeGreaterThanOrEqual(32);
    expect(readFileSync(join(root, "etc/tgwh/credentials/webhook_secret_old"), "utf8")).toBe("");
    for (const name of ["bot_token", "webhook_secret", "session_secret"]) {
      expect(res.out).not.toContain(readFileSync(join(root, "etc/tgwh/credentials", name), "utf8"));
    }
    expect(cmp(join(root, "usr/local/bin/tgwh"), binary)).toBe(true);
    // The HTTP site (ACME + redirect) is enabled at once; HTTPS waits for the certificate.
    // Relative links: they resolve in a staging root as on the VM.
    expect(readlinkSync(join(root, "etc/nginx/sites-enabled/tgwh-http.conf"))).toBe("../sites-available/tgwh-http.conf");
    expect(existsSync(join(root, "etc/nginx/sites-enabled/tgwh.conf"))).toBe(false);
    expect(res.out).toContain("certbot certonly --webroot -w /var/www/letsencrypt -d tg.test");
    const site = readFileSync(join(root, "etc/nginx/sites-available/tgwh.conf"), "utf8");
    expect(site).toContain("server_name tg.test;");
    expect(site).toContain("listen 443 ssl http2;");
    expect(site).toContain("ssl_certificate /etc/letsencrypt/live/tg.test/fullchain.pem;");
    expect(site).toContain("include /etc/nginx/snippets/tgwh/telegram-ips.conf;");
    expect(readFileSync(join(root, "etc/tgwh/tgwh.env"), "utf8")).toContain("TGWH_PUBLIC_URL=https://tg.test");

    // --help is the header's text, not the script's code.
    const help = await run([INSTALL, "--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("--server-name NAME");
    expect(help.out).not.toMatch(/set -|here=|\$\(/);

    // tgwh-admin runs the real binary with the installed settings and credentials.
    const api = startFakeBotApi();
    try {
      const doctor = await run([join(root, "usr/local/sbin/tgwh-admin"), "doctor", "--json"], {
        TGWH_ETC: join(root, "etc/tgwh"), TGWH_BIN: BINARY, TGWH_TELEGRAM_API: api.url, TGWH_DB: join(root, "var/lib/tgwh/tgwh.db"),
      });
      const checks = Object.fromEntries((JSON.parse(doctor.out) as { checks: { name: string; status: string; detail: string }[] }).checks.map((c) => [c.name, c]));
      expect(checks.config!.detail).toContain("public https://tg.test");
      for (const name of ["bot_token", "webhook_secret", "session_secret", "telegram"]) expect({ name, status: checks[name]!.status }).toEqual({ name, status: "OK" });
      expect(checks.credential_modes).toBeUndefined();
    } finally {
      api.stop();
    }
  });

  test("idempotent: a second run keeps credentials, settings and the operator's allowlist; enables HTTPS once the certificate exists", async () => {
    const root = newRoot();
    expect((await install(root, ["--server-name", "tg.test", "--bot-token-file", "-"], TEST_BOT_TOKEN)).code).toBe(0);
    const creds = ["bot_token", "webhook_secret", "session_secret"].map((n) => readFileSync(join(root, "etc/tgwh/credentials", n), "utf8"));
    writeFileSync(join(root, "etc/nginx/snippets/tgwh/admin-allow.conf"), "allow 10.20.0.5;\n");
    writeFileSync(join(root, "etc/tgwh/tgwh.env"), "TGWH_PUBLIC_URL=https://tg.test\nTGWH_LOG_LEVEL=debug\n");
    mkdirSync(join(root, "etc/letsencrypt/live/tg.test"), { recursive: true });
    writeFileSync(join(root, "etc/letsencrypt/live/tg.test/fullchain.pem"), "not a real certificate\n");

    const again = await install(root); // the host name comes from deploy.env
    expect(again.code).toBe(0);
    expect(again.out).not.toContain("installed /usr/local/bin/tgwh");
    expect(existsSync(join(root, "usr/local/lib/tgwh/previous/tgwh"))).toBe(false);
    expect(again.out).not.toMatch(/wrote credential|generated credential/);
    expect(["bot_token", "webhook_secret", "session_secret"].map((n) => readFileSync(join(root, "etc/tgwh/credentials", n), "utf8"))).toEqual(creds);
    expect(readFileSync(join(root, "etc/nginx/snippets/tgwh/admin-allow.conf"), "utf8")).toBe("allow 10.20.0.5;\n");
    expect(readFileSync(join(root, "etc/tgwh/tgwh.env"), "utf8")).toContain("TGWH_LOG_LEVEL=debug");
    expect(readlinkSync(join(root, "etc/nginx/sites-enabled/tgwh.conf"))).toBe("../sites-available/tgwh.conf");
  });

  test("credentials from files replace the old ones; an invalid one is refused without writing or echoing it", async () => {
    const root = newRoot();
    expect((await install(root, ["--server-name", "tg.test"])).code).toBe(0);
    expect(existsSync(join(root, "etc/tgwh/credentials/bot_token"))).toBe(false);
    const secretFile = join(root, "new-secret");
    writeFileSync(secretFile, "rotated_secret_ABC-123\n");
    expect((await install(root, ["--webhook-secret-file", secretFile])).code).toBe(0);
    expect(readFileSync(join(root, "etc/tgwh/credentials/webhook_secret"), "utf8")).toBe("rotated_secret_ABC-123");

    // An upgrade keeps the replaced binary for a rollback.
    const newer = join(root, "tgwh-newer");
    writeFileSync(newer, "#!/bin/sh\necho newer\n", { mode: 0o755 });
    const up = await run([INSTALL, "--prefix", root, "--binary", newer]);
    expect(up.out).toContain("installed /usr/local/bin/tgwh");
    expect(readFileSync(join(root, "usr/local/bin/tgwh"), "utf8")).toContain("newer");
    expect(readFileSync(join(root, "usr/local/lib/tgwh/previous/tgwh"), "utf8")).toBe(readFileSync(binary, "utf8"));

    const bad = await install(root, ["--bot-token-file", "-"], "not-a-token SECRETISH");
    expect(bad.code).toBe(2);
    expect(bad.out).toContain("bot_token: the given value is not valid");
    expect(bad.out).not.toContain("SECRETISH");
    expect(existsSync(join(root, "etc/tgwh/credentials/bot_token"))).toBe(false);
  });

  test("--database-url-file and --redis-url-file write the shared-store credentials; empty ones mean one VM; tgwh-admin then names no SQLite file", async () => {
    const root = newRoot();
    expect((await install(root, ["--server-name", "tg.test"])).code).toBe(0);
    const cred = (n: string) => readFileSync(join(root, "etc/tgwh/credentials", n), "utf8");
    expect([cred("database_url"), cred("redis_url")]).toEqual(["", ""]); // the unit loads both: they must exist

    const dbUrl = "postgres://tgwh:example-Passw0rd@db.internal:5432/tgwh";
    const urlFile = join(root, "redis-url");
    writeFileSync(urlFile, "redis://:example-redis-pass@10.0.0.7:6379\n");
    const res = await install(root, ["--database-url-file", "-", "--redis-url-file", urlFile], `${dbUrl}\n`);
    expect(res.code).toBe(0);
    expect(res.out).toContain("wrote credential database_url");
    expect(res.out).not.toMatch(/example-Passw0rd|example-redis-pass/);
    expect([cred("database_url"), cred("redis_url")]).toEqual([dbUrl, "redis://:example-redis-pass@10.0.0.7:6379"]);
    expect(statSync(join(root, "etc/tgwh/credentials/database_url")).mode & 0o777).toBe(0o600);

    const bad = await install(root, ["--database-url-file", "-"], "mysql://root:LEAKME@db/tgwh");
    expect(bad.code).toBe(2);
    expect(bad.out).toContain("database_url: the given value is not valid (expected postgres://");
    expect(bad.out).not.toContain("LEAKME");
    expect(cred("database_url")).toBe(dbUrl);

    // tgwh-admin with a database_url credential leaves TGWH_DB unset (with both, tgwh refuses to
    // start); the stand-in below prints what it was given.
    const probe = join(root, "env-probe");
    writeFileSync(probe, '#!/bin/sh\necho "TGWH_DB=${TGWH_DB:-unset} CREDENTIALS_DIRECTORY=$CREDENTIALS_DIRECTORY"\n', { mode: 0o755 });
    const admin = (env: Record<string, string> = {}) => run([join(root, "usr/local/sbin/tgwh-admin"), "version"], { TGWH_ETC: join(root, "etc/tgwh"), TGWH_BIN: probe, ...env });
    expect((await admin()).out).toContain("TGWH_DB=unset");
    writeFileSync(join(root, "etc/tgwh/credentials/database_url"), "");
    expect((await admin()).out).toContain("TGWH_DB=/var/lib/tgwh/tgwh.db");
    expect((await admin({ TGWH_DATABASE_URL: dbUrl })).out).toContain("TGWH_DB=unset");
    // Back to one VM: an empty file empties the credential (the unit still finds it).
    expect((await install(root, ["--redis-url-file", "/dev/null"])).code).toBe(0);
    expect(cred("redis_url")).toBe("");
    const units = ["tgwh.service", "tgwh@.service"].map((u) => readFileSync(join(root, "etc/systemd/system", u), "utf8"));
    for (const unit of units) {
      expect(unit).toContain("LoadCredential=database_url:/etc/tgwh/credentials/database_url");
      expect(unit).toContain("LoadCredential=redis_url:/etc/tgwh/credentials/redis_url");
    }
  });

  test("--uninstall keeps settings, credentials and the database; --purge removes them", async () => {
    const root = newRoot();
    expect((await install(root, ["--server-name", "tg.test", "--bot-token-file", "-"], TEST_BOT_TOKEN)).code).toBe(0);
    writeFileSync(join(root, "var/lib/tgwh/tgwh.db"), "data");
    const un = await run([INSTALL, "--prefix", root, "--uninstall"]);
    expect(un.code).toBe(0);
    for (const gone of ["usr/local/bin/tgwh", "etc/systemd/system/tgwh.service", "etc/nginx/sites-available/tgwh.conf", "etc/nginx/sites-enabled/tgwh-http.conf", "etc/letsencrypt/renewal-hooks/deploy/tgwh-reload-nginx.sh"]) {
      expect({ gone, exists: existsSync(join(root, gone)) || isLink(join(root, gone)) }).toEqual({ gone, exists: false });
    }
    expect(readFileSync(join(root, "var/lib/tgwh/tgwh.db"), "utf8")).toBe("data");
    expect(readFileSync(join(root, "etc/tgwh/credentials/bot_token"), "utf8")).toBe(TEST_BOT_TOKEN);
    expect(existsSync(join(root, "etc/nginx/snippets/tgwh/admin-allow.conf"))).toBe(true);

    expect((await run([INSTALL, "--prefix", root, "--uninstall", "--purge"])).code).toBe(0);
    expect(existsSync(join(root, "var/lib/tgwh"))).toBe(false);
    expect(existsSync(join(root, "etc/tgwh"))).toBe(false);
  });

  test("on a terminal the token prompt does not echo; missing packages come from apt-get; a failing step names itself", async () => {
    const root = newRoot();
    // A VM without nginx/certbot/curl (dpkg says so), an apt-get that records what it is asked, and no systemd.
    const fake = join(root, "fake-bin");
    mkdirSync(fake);
    const aptLog = join(root, "apt.log");
    writeFileSync(join(fake, "dpkg"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    writeFileSync(join(fake, "apt-get"), `#!/bin/sh\necho "$*" >> ${aptLog}\n`, { mode: 0o755 });
    writeFileSync(join(fake, "systemctl"), "#!/bin/sh\necho 'System has not been booted with systemd' >&2; exit 1\n", { mode: 0o755 });
    const cmd = `${INSTALL} --prefix ${root} --start --binary ${binary} --server-name tg.test --email ops@tg.test`;
    const proc = Bun.spawn(["script", "-qec", cmd, "/dev/null"], {
      env: { PATH: `${fake}:${process.env.PATH}`, HOME: root, TERM: "dumb" },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    let out = "";
    const reader = (async () => {
      const decoder = new TextDecoder();
      const r = proc.stdout.getReader();
      for (let c = await r.read(); !c.done; c = await r.read()) out += decoder.decode(c.value);
    })();
    for (let i = 0; i < 200 && !out.includes("Bot token from @BotFather"); i++) await Bun.sleep(50);
    expect(out).toContain("Bot token from @BotFather (not shown): ");
    proc.stdin.write(`${TEST_BOT_TOKEN}\n`);
    proc.stdin.flush();
    const code = await proc.exited;
    proc.stdin.end();
    await reader;
    expect(out).not.toContain(TEST_BOT_TOKEN);
    expect(readFileSync(join(root, "etc/tgwh/credentials/bot_token"), "utf8")).toBe(TEST_BOT_TOKEN);
    expect(readFileSync(aptLog, "utf8")).toContain("install -y -qq nginx certbot curl");
    expect(code).toBe(1);
    expect(out).toContain("step 'service' failed");
    expect(out).toContain("run the same install.sh command again");
  });

  test("render.sh explains a missing host name or output path in one line", async () => {
    const render = join(REPO, "deploy/render.sh");
    const noName = await run([render, newRoot()]);
    expect(noName.code).toBe(2);
    expect(noName.out.trim()).toBe("render.sh: SERVER_NAME is required (the public host name, e.g. SERVER_NAME=bot.example.com)");
    const noOut = await run([render], { SERVER_NAME: "tg.test" });
    expect(noOut.code).toBe(2);
    expect(noOut.out).toMatch(/^render\.sh: give one output path; usage: /);
    expect(noOut.out).not.toContain("line ");
  });

  test("make install DESTDIR=… runs install.sh with --prefix", async () => {
    const res = await run(["make", "-n", "-C", REPO, "install", "DESTDIR=/tmp/stage", "INSTALL_ARGS=--server-name tg.test"]);
    expect(res.out).toContain('deploy/install.sh --binary dist/tgwh --prefix "/tmp/stage" --server-name tg.test');
  });
});

const missing = missingPrograms(["systemd-analyze"]);
if (missing.length > 0) console.warn("SKIPPED systemd unit checks: systemd-analyze is missing (apt-get install -y systemd; .ci/run installs it)");

(missing.length > 0 ? describe.skip : describe)("systemd units (systemd-analyze, offline)", () => {
  const units = () => {
    const d = newRoot();
    copyFileSync(join(REPO, "deploy/systemd/tgwh.service"), join(d, "tgwh.service"));
    // A template is analysed as an instance, the way tgwh@canary runs.
    copyFileSync(join(REPO, "deploy/systemd/tgwh@.service"), join(d, "tgwh@canary.service"));
    for (const u of ["tgwh-backup.service", "tgwh-backup.timer", "tgwh-backup-offsite.service"]) copyFileSync(join(REPO, "deploy/systemd", u), join(d, u));
    return ["tgwh.service", "tgwh@canary.service", "tgwh-backup.service", "tgwh-backup-offsite.service", "tgwh-backup.timer"].map((u) => join(d, u));
  };

  test("exposure is at most 2.0 for tgwh.service, tgwh@canary.service and the backup services", async () => {
    for (const unit of units().filter((u) => u.endsWith(".service"))) {
      const res = await run(["systemd-analyze", "security", "--offline=yes", "--threshold=20", unit]);
      const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(res.out);
      expect(m, res.out.slice(-500)).not.toBeNull();
      expect(Number(m![1])).toBeLessThanOrEqual(2.0);
      expect(res.code).toBe(0);
    }
  });

  test("systemd-analyze verify: no unknown keys or sections, nothing but the absent binary", async () => {
    for (const unit of units()) {
      const res = await run(["systemd-analyze", "verify", unit]);
      expect(res.out).not.toMatch(/Unknown key|Unknown section|Invalid|Failed to parse|Unknown lvalue/i);
      // The binaries are not installed on the test machine (restic only if .ci/run installed it).
      const other = res.out.split("\n").filter((l) => l.trim() && !/Command (\/usr\/local\/(bin|lib\/tgwh\/canary)\/tgwh|\/usr\/bin\/restic) is not executable/.test(l));
      expect(other).toEqual([]);
    }
  });

  test("the backup timer runs hourly, catches up after downtime and starts the backup service", async () => {
    const timer = readFileSync(join(REPO, "deploy/systemd/tgwh-backup.timer"), "utf8");
    expect(timer).toMatch(/^OnCalendar=hourly$/m);
    expect(timer).toMatch(/^Persistent=true$/m);
    expect((await run(["systemd-analyze", "calendar", "hourly"])).out).toContain("Next elapse:");
    const backup = readFileSync(join(REPO, "deploy/systemd/tgwh-backup.service"), "utf8");
    expect(backup).toMatch(/^ExecStart=\/usr\/local\/bin\/tgwh backup --dir \/var\/backups\/tgwh --keep \d+$/m);
    expect(backup).toMatch(/^UMask=0077$/m);
    expect(backup).toMatch(/^OnSuccess=tgwh-backup-offsite\.service$/m);
    expect(readFileSync(join(REPO, "deploy/systemd/tgwh-backup-offsite.service"), "utf8")).toMatch(/^ConditionPathExists=\/etc\/tgwh\/restic\.env$/m);
  });

  test("the units keep the settings the deploy relies on", () => {
    const unit = readFileSync(join(REPO, "deploy/systemd/tgwh.service"), "utf8");
    for (const line of ["User=tgwh", "StateDirectory=tgwh", "Restart=always", "NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=",
      "SystemCallFilter=@system-service", "LoadCredential=bot_token:/etc/tgwh/credentials/bot_token", "LoadCredential=webhook_secret_old:/etc/tgwh/credentials/webhook_secret_old"]) {
      expect(unit.split("\n")).toContain(line);
    }
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=yes/m); // breaks Bun's JIT: see the comment in the unit
    // Stop timeout above the drain: 5 s for requests + TGWH_SHUTDOWN_SECONDS (default 10).
    expect(Number(/^TimeoutStopSec=(\d+)/m.exec(unit)![1])).toBeGreaterThan(15);
  });
});

function cmp(a: string, b: string): boolean {
  return Buffer.compare(readFileSync(a), readFileSync(b)) === 0;
}
function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
