/**
 * Real TLS for deploy tests: pebble (Debian's ACME test
 * server) issues a certificate to certbot --webroot, nginx serves the rendered deploy/nginx files
 * on free loopback ports. Every server is started here and stopped by its pid.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:tls";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

export const REPO = resolve(import.meta.dir, "../..");
export const TEST_HOST = "tg.test";

/** Programs the deploy tests need; CI installs them (.ci/run), so a missing one is reported, not hidden. */
export function missingPrograms(names: string[]): string[] {
  return names.filter((n) => Bun.which(n, { PATH: `${process.env.PATH}:/usr/sbin:/sbin` }) === null);
}

export async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

/** Runs a program to completion (no shell); stdout and stderr together. */
export async function run(cmd: string[], env: Record<string, string> = {}, stdin?: string) {
  const proc = Bun.spawn(cmd, {
    env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin`, HOME: process.env.HOME ?? "/root", ...env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out: out + err };
}

async function waitUntil(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(50);
  }
}

export interface Server {
  pid: number;
  stop(): Promise<void>;
}

function server(proc: Subprocess, signal: NodeJS.Signals = "SIGTERM"): Server {
  return {
    pid: proc.pid,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, signal);
      await Promise.race([proc.exited, Bun.sleep(5000)]);
      if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, "SIGKILL");
    },
  };
}

export interface Pebble extends Server {
  directoryUrl: string;
  /** pebble's own API certificate: what certbot must trust (REQUESTS_CA_BUNDLE). */
  apiCertPath: string;
  /** The root that issues the test certificates: what clients of nginx trust. */
  rootPemPath: string;
}

export async function startPebble(dir: string): Promise<Pebble> {
  mkdirSync(dir, { recursive: true });
  const cert = join(dir, "pebble-api.pem");
  const key = join(dir, "pebble-api.key");
  const gen = await run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", cert]);
  if (gen.code !== 0) throw new Error(`openssl failed:\n${gen.out}`);
  const [listen, mgmt, http, tls] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const config = join(dir, "pebble.json");
  writeFileSync(config, JSON.stringify({ pebble: { listenAddress: `127.0.0.1:${listen}`, managementListenAddress: `127.0.0.1:${mgmt}`,
    certificate: cert, privateKey: key, httpPort: http, tlsPort: tls, externalAccountBindingRequired: false } }));
  const proc = Bun.spawn(["pebble", "-config", config], {
    // pebble rejects 5 % of nonces by default to exercise clients' retries; Debian 12's certbot 2.1
    // sometimes dies in that retry ("AttributeError: can't set attribute"), failing a test at random.
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PEBBLE_VA_ALWAYS_VALID: "1", PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" },
    stdout: Bun.file(join(dir, "pebble.log")),
    stderr: Bun.file(join(dir, "pebble.err.log")),
  });
  const ca = readFileSync(cert, "utf8");
  const tlsOpt = { tls: { ca } } as RequestInit;
  await waitUntil(async () => (await fetch(`https://127.0.0.1:${listen}/dir`, tlsOpt)).ok, 10_000, "pebble to listen");
  const root = await (await fetch(`https://127.0.0.1:${mgmt}/roots/0`, tlsOpt)).text();
  const rootPemPath = join(dir, "pebble-root.pem");
  writeFileSync(rootPemPath, root);
  return { ...server(proc), directoryUrl: `https://127.0.0.1:${listen}/dir`, apiCertPath: cert, rootPemPath };
}

/** certbot with every directory under `dir` (nothing global changes), against pebble. */
export function certbotArgs(pebble: Pebble, dir: string): { env: Record<string, string>; common: string[] } {
  return {
    env: { REQUESTS_CA_BUNDLE: pebble.apiCertPath },
    common: ["--non-interactive", "--server", pebble.directoryUrl, "--config-dir", join(dir, "config"), "--work-dir", join(dir, "work"), "--logs-dir", join(dir, "logs")],
  };
}

export interface Nginx extends Server {
  prefix: string;
  conf: string;
  /** Env for deploy/certbot/reload-nginx.sh to act on this nginx. */
  hookEnv: Record<string, string>;
  errorLog(): string;
}

/**
 * Writes the test's main nginx.conf (pid, logs and temp paths inside `prefix`) around the
 * rendered sites and checks it with `nginx -t`; returns its path. `testOnlyInclude` goes in the
 * http block: the tests' realip setup that simulates source addresses; the production files
 * never contain it.
 */
export async function testNginxConf(prefix: string, sitesDir: string, testOnlyInclude: string): Promise<string> {
  for (const d of ["logs", "tmp"]) mkdirSync(join(prefix, d), { recursive: true });
  const conf = join(prefix, "nginx.conf");
  writeFileSync(
    conf,
    `worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log info;
events { worker_connections 512; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log ${prefix}/logs/access.log;
    client_body_temp_path ${prefix}/tmp/body;
    proxy_temp_path ${prefix}/tmp/proxy;
    fastcgi_temp_path ${prefix}/tmp/fastcgi;
    uwsgi_temp_path ${prefix}/tmp/uwsgi;
    scgi_temp_path ${prefix}/tmp/scgi;
    include ${testOnlyInclude};
    include ${sitesDir}/*.conf;
}
`,
  );
  const t = await run(["nginx", "-t", "-p", prefix, "-c", conf]);
  if (t.code !== 0) throw new Error(`nginx -t failed:\n${t.out}`);
  return conf;
}

/** nginx on the test's main nginx.conf (testNginxConf), until stopped. */
export async function startNginx(prefix: string, sitesDir: string, testOnlyInclude: string, ports: number[]): Promise<Nginx> {
  const conf = await testNginxConf(prefix, sitesDir, testOnlyInclude);
  const proc = Bun.spawn(["nginx", "-p", prefix, "-c", conf, "-g", "daemon off;"], {
    stdout: Bun.file(join(prefix, "logs/stdout.log")),
    stderr: Bun.file(join(prefix, "logs/stderr.log")),
  });
  const errorLog = () => (existsSync(join(prefix, "logs/error.log")) ? readFileSync(join(prefix, "logs/error.log"), "utf8") : "");
  // Ready when every port accepts a connection; a bind failure (port taken since freePort) exits nginx.
  await waitUntil(
    async () => {
      if (proc.exitCode !== null) throw new Error(`nginx exited with ${proc.exitCode}:\n${errorLog().slice(-2000)}`);
      for (const port of ports) (await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } })).end();
      return true;
    },
    10_000,
    "nginx to listen",
  ).catch((err) => {
    proc.kill(9);
    throw new Error(`${(err as Error).message}\n${errorLog().slice(-2000)}`);
  });
  return {
    // SIGQUIT: nginx's graceful stop.
    ...server(proc, "SIGQUIT"),
    prefix,
    conf,
    hookEnv: { NGINX_PREFIX: prefix, NGINX_CONF: conf },
    errorLog,
  };
}

/** Makes a temp tree traversable by nginx's unprivileged workers (mkdtemp gives 0700). */
export function openUp(...dirs: string[]): void {
  for (const d of dirs) chmodSync(d, 0o755);
}

export function copyExecutable(src: string, dst: string): void {
  copyFileSync(src, dst);
  chmodSync(dst, 0o755);
}

export interface CurlResult {
  status: number;
  httpVersion: string;
  headers: Record<string, string>;
  body: string;
}

/** One request with curl: --resolve to 127.0.0.1, the pebble root as the only CA. */
export async function curl(
  url: string,
  opts: { ca?: string; method?: string; headers?: Record<string, string>; body?: string; bodyFile?: string; /** e.g. --interface 127.0.0.2, --path-as-is */ extraArgs?: string[] } = {},
): Promise<CurlResult> {
  const u = new URL(url);
  const args = ["curl", "-sS", "--max-time", "30", "-o", "-", "-D", "-", "-w", "\n%{http_code} %{http_version}",
    "--resolve", `${u.hostname}:${u.port}:127.0.0.1`];
  if (opts.ca) args.push("--cacert", opts.ca);
  args.push(...(opts.extraArgs ?? []));
  if (opts.method) args.push("-X", opts.method);
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push("-H", `${k}: ${v}`);
  if (opts.body !== undefined) args.push("--data-binary", "@-");
  if (opts.bodyFile) args.push("--data-binary", `@${opts.bodyFile}`);
  args.push(url);
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe", stdin: opts.body === undefined ? "ignore" : new Blob([opts.body]) });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`curl ${url} failed (${code}): ${err}`);
  // stdout: the header block (-D -), a blank line, the body, then -w's "status version".
  const cut = out.lastIndexOf("\n");
  const [status, httpVersion] = out.slice(cut + 1).split(" ");
  const split = out.indexOf("\r\n\r\n");
  const headers: Record<string, string> = {};
  for (const line of out.slice(0, split).split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("HTTP/")) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(status), httpVersion: httpVersion ?? "", headers, body: out.slice(split + 4, cut) };
}

/** The serial number of the certificate served for `host` on 127.0.0.1:port. */
export function servedSerial(port: number, host: string, ca: string): Promise<string> {
  return new Promise((res, rej) => {
    const s = connect({ host: "127.0.0.1", port, servername: host, ca: readFileSync(ca, "utf8") }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.end();
      res(serial);
    });
    s.once("error", rej);
  });
}
