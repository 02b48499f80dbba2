/**
 * The deploy kit with the real programs: pebble issues a certificate to certbot --webroot, nginx
 * serves the files rendered by deploy/render.sh in front of dist/tgwh, and every check goes over
 * HTTPS with the pebble root. Then a forced renewal through the deploy hook, `tgwh smoke`, and a
 * canary pair behind the same nginx.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { messageUpdate, removeDir, runTgwh, startTgwh, tempDir, TEST_SECRET, waitFor, type TgwhProcess } from "../support/tgwh";
import {
  certbotArgs, curl, freePort, missingPrograms, openUp, REPO, run, servedSerial, startNginx, startPebble, TEST_HOST,
  type Nginx, type Pebble,
} from "../support/tls-stack";

const missing = missingPrograms(["nginx", "certbot", "pebble", "openssl", "curl"]);
if (missing.length > 0) console.warn(`SKIPPED test/deploy/nginx-tls.test.ts: missing ${missing.join(", ")} (apt-get install -y nginx certbot pebble openssl curl; .ci/run installs them)`);
const maybe = missing.length > 0 ? describe.skip : describe;

const TELEGRAM_SOURCE = "149.154.167.99"; // inside 149.154.160.0/20
const OUTSIDE_SOURCE = "203.0.113.7"; // TEST-NET-3: neither Telegram nor the admin allowlist

let dir: string;
let api: FakeBotApi;
let tg: TgwhProcess;
let canary: TgwhProcess | null = null;
let pebble: Pebble;
let nginx: Nginx;
let httpPort: number;
let httpsPort: number;
let renderEnv: Record<string, string>;
let cb: ReturnType<typeof certbotArgs>;
let certbotDir: string;
let nextUpdateId = 5000;

const base = () => `https://${TEST_HOST}:${httpsPort}`;
const https = (path: string, opts: Parameters<typeof curl>[1] = {}) => curl(`${base()}${path}`, { ca: pebble.rootPemPath, ...opts });
const fromSource = (ip: string, extra: Record<string, string> = {}) => ({ "x-test-source": ip, ...extra });
const signed = (ip = TELEGRAM_SOURCE) => fromSource(ip, { "content-type": "application/json", "x-telegram-bot-api-secret-token": TEST_SECRET });

const jobOf = (updateId: number) => {
  const db = new Database(tg.dbPath, { readonly: true });
  try {
    return db.query("SELECT state, attempts FROM jobs WHERE dedupe_key = ?").get(`update:${updateId}`) as { state: string; attempts: number } | null;
  } finally {
    db.close();
  }
};

maybe("nginx + certbot + pebble in front of dist/tgwh", () => {
  beforeAll(async () => {
    dir = tempDir("tgwh-deploy-");
    openUp(dir);
    api = startFakeBotApi();
    [httpPort, httpsPort] = [await freePort(), await freePort()];
    mkdirSync(join(dir, "a"));
    mkdirSync(join(dir, "b"));
    tg = await startTgwh({ dir: join(dir, "a"), env: { TGWH_TELEGRAM_API: api.url, TGWH_PUBLIC_URL: `https://${TEST_HOST}:${httpsPort}` } });

    // 1. Certificate: pebble → certbot certonly --webroot, the documented command, all dirs in `dir`.
    pebble = await startPebble(join(dir, "pebble"));
    certbotDir = join(dir, "certbot");
    const webroot = join(dir, "webroot");
    mkdirSync(webroot, { recursive: true });
    openUp(webroot);
    cb = certbotArgs(pebble, certbotDir);
    const issued = await run(["certbot", "certonly", ...cb.common, "--agree-tos", "-m", "ops@tg.test", "--no-eff-email", "--webroot", "-w", webroot, "-d", TEST_HOST], cb.env);
    if (issued.code !== 0) throw new Error(`certbot certonly failed:\n${issued.out}`);
    // The deploy hook where install.sh puts it: certbot runs it on every renewal.
    const hookDir = join(certbotDir, "config/renewal-hooks/deploy");
    mkdirSync(hookDir, { recursive: true });
    copyFileSync(join(REPO, "deploy/certbot/reload-nginx.sh"), join(hookDir, "tgwh-reload-nginx.sh"));
    await run(["chmod", "0755", join(hookDir, "tgwh-reload-nginx.sh")]);

    // 2. The real deploy files, rendered with test ports and paths. A port found free can be taken
    //    by another process before nginx binds it: then render with new ports and try again.
    const out = join(dir, "nginx-files");
    // The operator's allowlist stays empty: only the VM itself (127.0.0.1) reaches /admin/.
    // Test only: believe X-Test-Source from 127.0.0.1, to simulate where a request comes from.
    const realip = join(dir, "test-only-realip.conf");
    writeFileSync(realip, "set_real_ip_from 127.0.0.1;\nreal_ip_header X-Test-Source;\n");
    for (let attempt = 1; ; attempt++) {
      renderEnv = {
        SERVER_NAME: TEST_HOST, LISTEN_ADDRESS: "127.0.0.1", HTTP_PORT: String(httpPort), HTTPS_PORT: String(httpsPort),
        ACME_WEBROOT: webroot, CERT_DIR: join(certbotDir, "config/live", TEST_HOST), SNIPPETS_DIR: join(out, "snippets"),
        UPSTREAM: `127.0.0.1:${tg.port}`,
      };
      const rendered = await run([join(REPO, "deploy/render.sh"), out], renderEnv);
      if (rendered.code !== 0) throw new Error(`render.sh failed:\n${rendered.out}`);
      try {
        nginx = await startNginx(join(dir, `nginx-${attempt}`), join(out, "sites"), realip, [httpPort, httpsPort]);
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
        [httpPort, httpsPort] = [await freePort(), await freePort()];
      }
    }
  }, 90_000);

  afterAll(async () => {
    await nginx?.stop();
    await pebble?.stop();
    await canary?.stop();
    await tg?.stop();
    api?.stop();
    if (dir) removeDir(dir);
  });

  test("a signed update from Telegram's range → 200 over HTTP/2 with HSTS, stored and processed once", async () => {
    const id = nextUpdateId++;
    const res = await https("/telegram/webhook", { method: "POST", headers: signed(), body: JSON.stringify(messageUpdate(id, 601, "/help")) });
    expect(res.status).toBe(200);
    expect(res.httpVersion).toBe("2");
    expect(res.headers["strict-transport-security"]).toBe("max-age=63072000");
    await waitFor(() => jobOf(id)?.state === "done", 10_000, `update ${id} to be done`, tg.logs);
    expect(jobOf(id)!.attempts).toBe(1);
    expect(api.callsOf("sendMessage").filter((c) => c.payload.chat_id === 601)).toHaveLength(1);
  });

  test("a source outside Telegram's ranges → 403 at nginx, nothing stored", async () => {
    const id = nextUpdateId++;
    const res = await https("/telegram/webhook", { method: "POST", headers: signed(OUTSIDE_SOURCE), body: JSON.stringify(messageUpdate(id, 602, "/help")) });
    expect(res.status).toBe(403);
    expect(res.body).toContain("nginx");
    expect(jobOf(id)).toBeNull();
  });

  test("/admin/ and /metrics from outside the allowlist → 403; from the VM itself they reach tgwh", async () => {
    expect((await https("/admin/queue", { headers: fromSource(OUTSIDE_SOURCE) })).status).toBe(403);
    expect((await https("/metrics", { headers: fromSource(OUTSIDE_SOURCE) })).status).toBe(403);
    expect((await https("/internal/notifications", { method: "POST", headers: fromSource(TELEGRAM_SOURCE) })).status).toBe(403);
    const inside = await https("/admin/queue");
    expect(inside.status).toBe(401); // tgwh's RBAC answers: nginx let it through
    expect(inside.headers["www-authenticate"]).toContain("Bearer");
    expect((await https("/metrics")).status).toBe(200);
  });

  test("paths nginx does not publish → 404; the auth routes are public", async () => {
    expect((await https("/healthz", { headers: fromSource(OUTSIDE_SOURCE) })).status).toBe(403);
    expect((await https("/nothing-here", { headers: fromSource(OUTSIDE_SOURCE) })).status).toBe(404);
    expect((await https("/app", { headers: fromSource(OUTSIDE_SOURCE) })).status).toBe(200);
  });

  test("from a source on no allowlist: a backslash or its encodings anywhere in the target → 400 from nginx; a client-chosen Host reaches nothing", async () => {
    // A real second source address: 127.0.0.2 is on no allowlist (and its X-Test-Source is not believed).
    const outsider = ["--interface", "127.0.0.2", "--path-as-is"];
    expect((await https("/metrics", { extraArgs: outsider })).status).toBe(403);
    expect((await https("/app", { extraArgs: outsider })).status).toBe(200);
    const [viewer, service] = await Promise.all(
      (["viewer", "service"] as const).map(async (role) => {
        const r = await runTgwh(["token", "create", "--name", `bs-${role}`, "--role", role, "--json"], { TGWH_DB: tg.dbPath });
        return (JSON.parse(r.stdout) as { token: string }).token;
      }),
    );
    const id = nextUpdateId++;
    const attacks: [string, Parameters<typeof curl>[1]][] = [
      ["/app/..\\metrics", {}],
      ["/app/..\\readyz", {}],
      ["/app/..\\admin/openapi.json", {}],
      ["/auth/..\\admin/queue", { headers: { authorization: `Bearer ${viewer}` } }],
      ["/app/..\\internal/notifications", { method: "POST", headers: { authorization: `Bearer ${service}`, "content-type": "application/json" }, body: '{"chatId":1,"text":"x","dedupeKey":"bs-1"}' }],
      ["/app/..\\telegram/webhook", { method: "POST", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": TEST_SECRET }, body: JSON.stringify(messageUpdate(id, 604, "/help")) }],
      ["/app/..%5Cmetrics", {}],
      ["/app/..%5cmetrics", {}],
      ["/app/%255Cmetrics", {}],
      ["/app?next=..\\metrics", {}],
    ];
    const webhookLines = () => tg.logLines().filter((l) => l.msg === "webhook").length;
    const webhookBefore = webhookLines();
    for (const [path, opts] of attacks) {
      const res = await https(path, { ...opts, extraArgs: outsider });
      expect({ path, status: res.status, fromNginx: res.body.includes("nginx") }).toEqual({ path, status: 400, fromNginx: true });
      expect(res.headers.server).toBe("nginx");
    }
    // A client-chosen Host: nginx sends tgwh its own server name, and tgwh's routing ignores the host anyway.
    for (const [path, headers] of [["/app/metrics", {}], ["/auth/admin/queue", { authorization: `Bearer ${viewer}` }]] as const) {
      const res = await https(path, { headers: { host: "a", ...headers }, extraArgs: outsider });
      expect({ path, status: res.status, body: res.body.slice(0, 40) }).toEqual({ path, status: 404, body: '{"ok":false,"error":"no such route"}' });
    }
    const plain = await curl(`http://${TEST_HOST}:${httpPort}/app/..\\metrics`, { extraArgs: outsider });
    expect(plain.status).toBe(400);
    expect(jobOf(id)).toBeNull();
    const db = new Database(tg.dbPath, { readonly: true });
    try {
      expect(db.query("SELECT count(*) AS n FROM jobs WHERE dedupe_key = 'notify:bs-1'").get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
    // Nothing reached tgwh's webhook: not one webhook line since.
    await Bun.sleep(200);
    expect(webhookLines()).toBe(webhookBefore);
  });

  test("no answer names the nginx version (server_tokens off at http level), on either port", async () => {
    expect((await curl(`http://${TEST_HOST}:${httpPort}/app`)).headers.server).toBe("nginx");
    expect((await curl(`http://${TEST_HOST}:${httpPort}/telegram/webhook`)).headers.server).toBe("nginx");
    expect((await https("/nothing-here", { headers: fromSource(OUTSIDE_SOURCE) })).headers.server).toBe("nginx");
    // The rendered site stays IPv4-only (docs/security.md): a change to that must be deliberate.
    const sites = readFileSync(join(dir, "nginx-files/sites/tgwh.conf"), "utf8") + readFileSync(join(dir, "nginx-files/sites/tgwh-http.conf"), "utf8");
    expect(sites).not.toMatch(/^\s*listen\s+\[/m);
  });

  test("HTTP → 301 to https, except the ACME challenge path; the webhook is never redirected", async () => {
    const plain = (path: string) => curl(`http://${TEST_HOST}:${httpPort}${path}`);
    const redirect = await plain("/app?x=1");
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe(`https://${TEST_HOST}:${httpsPort}/app?x=1`);
    const challengeDir = join(renderEnv.ACME_WEBROOT!, ".well-known/acme-challenge");
    mkdirSync(challengeDir, { recursive: true });
    openUp(join(renderEnv.ACME_WEBROOT!, ".well-known"), challengeDir);
    writeFileSync(join(challengeDir, "token123"), "token123.thumbprint");
    const acme = await plain("/.well-known/acme-challenge/token123");
    expect(acme.status).toBe(200);
    expect(acme.body).toBe("token123.thumbprint");
    expect((await plain("/telegram/webhook")).status).toBe(403);
  });

  test("a body over 1 MiB → 413 from nginx; tgwh never sees it", async () => {
    const id = nextUpdateId++;
    const big = JSON.stringify({ ...messageUpdate(id, 603, "x"), pad: "y".repeat(1024 * 1024 + 10) });
    const bodyFile = join(dir, "big.json");
    writeFileSync(bodyFile, big);
    const res = await https("/telegram/webhook", { method: "POST", headers: signed(), bodyFile });
    expect(res.status).toBe(413);
    expect(res.body).toContain("nginx");
    expect(tg.logs()).not.toContain('"outcome":"too_large"');
    expect(jobOf(id)).toBeNull();
  });

  test("tgwh smoke over HTTPS: certificate, signed update processed, notification delivered", async () => {
    const created = await runTgwh(["token", "create", "--name", "smoke", "--role", "operator", "--json"], { TGWH_DB: tg.dbPath });
    expect(created.code).toBe(0);
    const tokenFile = join(dir, "smoke-token");
    writeFileSync(tokenFile, (JSON.parse(created.stdout) as { token: string }).token, { mode: 0o600 });
    const args = ["smoke", "--url", base(), "--resolve", "127.0.0.1", "--ca", pebble.rootPemPath, "--chat", "4242", "--admin-token-file", tokenFile];
    const res = await runTgwh(args, { TGWH_WEBHOOK_SECRET: TEST_SECRET });
    expect(res.stdout).toMatch(/^OK +tls +TLSv1\.[23], CN=tg\.test/m);
    expect(res.stdout).toMatch(/^OK +webhook +synthetic update \d+ acknowledged/m);
    expect(res.stdout).toMatch(/^OK +processed +update \d+ done/m);
    expect(res.stdout).toMatch(/^OK +notification +delivered to chat 4242 in \d+ ms \(30 s SLA\)/m);
    expect(res.code).toBe(0);
    expect(api.callsOf("sendMessage").filter((c) => c.payload.chat_id === 4242)).toHaveLength(1);
    expect(res.stdout + res.stderr).not.toContain(TEST_SECRET);

    const wrong = await runTgwh(args, { TGWH_WEBHOOK_SECRET: "not_the_secret" });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/^FAIL +webhook +synthetic update \d+: HTTP 401/m);
    const untrusted = await runTgwh(args.filter((a, i) => a !== "--ca" && args[i - 1] !== "--ca"), { TGWH_WEBHOOK_SECRET: TEST_SECRET });
    expect(untrusted.code).toBe(1);
    expect(untrusted.stdout).toMatch(/^FAIL +tls .*not trusted/m);
  }, 60_000);

  test("tgwh smoke fails when delivery goes unchecked unless --no-delivery; on the service's database it makes and revokes its own token", async () => {
    const base_ = ["smoke", "--url", base(), "--resolve", "127.0.0.1", "--ca", pebble.rootPemPath];
    const env = { TGWH_WEBHOOK_SECRET: TEST_SECRET, TGWH_DB: tg.dbPath };
    const unchecked = await runTgwh(base_, env);
    expect(unchecked.code).toBe(1);
    expect(unchecked.stdout).toMatch(/^OK +processed +update \d+ done/m);
    expect(unchecked.stdout).toMatch(/^FAIL +notification +not checked: no --chat/m);
    const skipped = await runTgwh([...base_, "--no-delivery"], env);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toMatch(/^WARN +notification +not checked \(--no-delivery\)/m);
    expect(skipped.stdout).toMatch(/^OK +token +used its own operator token 'smoke-\S+', now revoked/m);
    const delivered = await runTgwh([...base_, "--chat", "4343"], env);
    expect(delivered.code).toBe(0);
    expect(delivered.stdout).toMatch(/^OK +notification +delivered to chat 4343/m);
    const db = new Database(tg.dbPath, { readonly: true });
    try {
      const rows = db.query("SELECT name, revoked_at AS revokedAt FROM service_accounts WHERE name LIKE 'smoke-%'").all() as { name: string; revokedAt: number | null }[];
      expect(rows.length).toBe(3);
      expect(rows.filter((r) => r.revokedAt === null)).toEqual([]);
    } finally {
      db.close();
    }
    // Away from the service's database and without a token, processing cannot be checked: refused up front.
    const noDb = await runTgwh([...base_, "--no-delivery"], { TGWH_WEBHOOK_SECRET: TEST_SECRET, TGWH_DB: join(dir, "nope.db") });
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toContain("does not exist");
  }, 60_000);

  test("a forced renewal runs the deploy hook (nginx -t, reload) and nginx serves the new certificate", async () => {
    const before = await servedSerial(httpsPort, TEST_HOST, pebble.rootPemPath);
    const renewed = await run(["certbot", "renew", ...cb.common, "--force-renewal", "--no-random-sleep-on-renew"], { ...cb.env, ...nginx.hookEnv });
    expect(renewed.code).toBe(0);
    expect(renewed.out).toContain("reload-nginx.sh: nginx reloaded");
    const onDisk = await run(["openssl", "x509", "-noout", "-serial", "-in", join(certbotDir, "config/live", TEST_HOST, "cert.pem")]);
    const renewedSerial = onDisk.out.trim().replace(/^serial=/, "").toUpperCase();
    expect(renewedSerial).not.toBe(before.toUpperCase());
    // A graceful reload lets old workers finish their connections: one of them may still answer a
    // handshake with the old certificate for a moment, so wait for the new one rather than for "not the old".
    const served = () => servedSerial(httpsPort, TEST_HOST, pebble.rootPemPath).then((s) => s.toUpperCase());
    const threeInARow = async () => (await served()) === renewedSerial && (await served()) === renewedSerial && (await served()) === renewedSerial;
    await waitFor(threeInARow, 10_000, "nginx to serve only the renewed certificate");
    expect(await served()).toBe(renewedSerial);
    // Still serving traffic after the reload.
    expect((await https("/app")).status).toBe(200);
  }, 60_000);

  test("canary pair: nginx splits updates over both instances on one database, each processed exactly once", async () => {
    canary = await startTgwh({ dir: join(dir, "b"), dbPath: tg.dbPath, env: { TGWH_TELEGRAM_API: api.url, TGWH_PUBLIC_URL: `https://${TEST_HOST}:${httpsPort}` } });
    const switchTo = async (extra: Record<string, string>) => {
      const r = await run([join(REPO, "deploy/render.sh"), "--upstream-only", join(dir, "nginx-files/snippets/upstream.conf")], { ...renderEnv, ...extra });
      expect(r.code).toBe(0);
      const reload = await run([join(REPO, "deploy/certbot/reload-nginx.sh")], nginx.hookEnv);
      expect(reload.code).toBe(0);
    };
    await switchTo({ CANARY_UPSTREAM: `127.0.0.1:${canary.port}`, CANARY_PERCENT: "50" });
    expect(readFileSync(join(dir, "nginx-files/snippets/upstream.conf"), "utf8")).toContain(`127.0.0.1:${canary.port} weight=50`);
    await Bun.sleep(300); // old workers finish their keepalive connections

    const stored = (p: TgwhProcess) => p.logLines().filter((l) => l.msg === "webhook" && l.outcome === "stored").map((l) => (l.update_id ?? l.updateId) as number);
    const ids = Array.from({ length: 40 }, () => nextUpdateId++);
    const before = { a: stored(tg).length, b: stored(canary).length };
    for (const id of ids) {
      const res = await https("/telegram/webhook", { method: "POST", headers: signed(), body: JSON.stringify(messageUpdate(id, 700000 + id, "/help")) });
      expect(res.status).toBe(200);
    }
    await waitFor(() => ids.every((id) => jobOf(id)?.state === "done"), 20_000, "all canary-phase updates to be done", () => tg.logs() + canary!.logs());
    const onA = () => stored(tg).slice(before.a).filter((id) => ids.includes(id));
    const onB = () => stored(canary!).slice(before.b).filter((id) => ids.includes(id));
    // pino writes asynchronously: wait for both logs to hold every line.
    await waitFor(() => onA().length + onB().length >= ids.length, 5_000, "the webhook log lines of both instances");
    expect(onA().length).toBeGreaterThan(5);
    expect(onB().length).toBeGreaterThan(5);
    expect(new Set([...onA(), ...onB()]).size).toBe(ids.length);
    expect(onA().length + onB().length).toBe(ids.length);
    for (const id of ids) {
      expect(jobOf(id)!.attempts).toBe(1);
      expect(api.callsOf("sendMessage").filter((c) => c.payload.chat_id === 700000 + id)).toHaveLength(1);
    }

    // Roll back: the stable instance alone again; the canary gets nothing more.
    await switchTo({});
    await Bun.sleep(300);
    const afterB = stored(canary).length;
    const id = nextUpdateId++;
    expect((await https("/telegram/webhook", { method: "POST", headers: signed(), body: JSON.stringify(messageUpdate(id, 800001, "/help")) })).status).toBe(200);
    await waitFor(() => jobOf(id)?.state === "done", 10_000, "the post-rollback update to be done");
    expect(stored(canary).length).toBe(afterB);
  }, 90_000);
});
