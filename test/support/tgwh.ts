import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

/** The compiled binary under test; `make test` builds it first. TGWH_BINARY pins a copy (the long soak does, so rebuilds do not change it mid-run). */
export const BINARY = process.env.TGWH_BINARY || resolve(import.meta.dir, "../../dist/tgwh");

/** A fake token and secret used only in tests (never a real credential). */
export const TEST_BOT_TOKEN = "123456789:TEST_fake_token_for_tests_only_0000000";
export const TEST_SECRET = "test_webhook_secret_0123456789";

export interface TgwhProcess {
  url: string;
  port: number;
  dir: string;
  dbPath: string;
  pid: number;
  proc: Subprocess;
  /** Everything the process wrote to stdout and stderr so far. */
  logs(): string;
  /** Parsed JSON log lines so far. */
  logLines(): Record<string, unknown>[];
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(signal?: "SIGTERM" | "SIGINT"): Promise<number>;
  /** kill -9 and wait for the process to be gone. */
  kill9(): Promise<void>;
}

const running = new Set<Subprocess>();
// Temp dirs startTgwh made itself: a test may restart on the same dir after stop(), so they go only
// when the whole run ends (a benchmark's database is tens of MB; ~20 per `make test` were left in /tmp).
const ownedDirs = new Set<string>();

/**
 * Kills what startTgwh started and is still running, and removes the temp dirs it made. bun test
 * fires no process "exit" event, so test/support/preload.ts calls this from a global afterAll;
 * benchmarks (plain `bun`) get it on exit.
 */
export function endStartedTgwh(): void {
  for (const p of running) p.kill(9);
  for (const d of ownedDirs) rmSync(d, { recursive: true, force: true });
  ownedDirs.clear();
}
process.on("exit", endStartedTgwh);

export function tempDir(prefix = "tgwh-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  /** Directory for the database and logs (a new temp dir by default). */
  dir?: string;
  dbPath?: string;
  /** Port to listen on (0 = any free one). */
  port?: number;
  args?: string[];
  /** Wait for /readyz to answer 200 (default true). */
  waitReady?: boolean;
  /** Another build to run instead of dist/tgwh (bench: the before/after comparison). */
  binary?: string;
}

let runCounter = 0;

/** Starts dist/tgwh with a test configuration and waits until it listens (and is ready). */
export async function startTgwh(opts: StartOptions = {}): Promise<TgwhProcess> {
  const binary = opts.binary ?? BINARY;
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run \`make build\` (make test does it)`);
  const dir = opts.dir ?? tempDir();
  if (!opts.dir) ownedDirs.add(dir);
  const dbPath = opts.dbPath ?? join(dir, "tgwh.db");
  const logPath = join(dir, `tgwh-${process.pid}-${++runCounter}.log`);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    TGWH_DB: dbPath,
    TGWH_LISTEN: `127.0.0.1:${opts.port ?? 0}`,
    TGWH_BOT_TOKEN: TEST_BOT_TOKEN,
    TGWH_WEBHOOK_SECRET: TEST_SECRET,
    TGWH_LOG_LEVEL: "debug",
    TGWH_SEND_PER_SECOND: "0",
    TGWH_LEASE_SECONDS: "5",
    TGWH_SHUTDOWN_SECONDS: "3",
  };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const proc = Bun.spawn([binary, ...(opts.args ?? ["serve"])], {
    env,
    stdout: Bun.file(logPath),
    stderr: Bun.file(`${logPath}.err`),
    stdin: "ignore",
  });
  running.add(proc);
  proc.exited.then(() => running.delete(proc));
  const read = (p: string) => (existsSync(p) ? readFileSync(p, "utf8") : "");
  const logs = () => read(logPath) + read(`${logPath}.err`);

  let url = "";
  const deadline = Date.now() + 15_000;
  while (!url) {
    const m = /"listen":"(http:\/\/[^"]+)"/.exec(read(logPath));
    if (m) url = m[1]!;
    else if (proc.exitCode !== null) throw new Error(`tgwh exited with ${proc.exitCode} before listening:\n${logs()}`);
    else if (Date.now() > deadline) {
      proc.kill(9);
      throw new Error(`tgwh did not start listening within 15 s:\n${logs()}`);
    } else await Bun.sleep(20);
  }
  const port = Number(new URL(url).port);
  const t: TgwhProcess = {
    url,
    port,
    dir,
    dbPath,
    pid: proc.pid,
    proc,
    logs,
    logLines: () =>
      read(logPath)
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null) proc.kill(signal);
      return await proc.exited;
    },
    async kill9() {
      proc.kill(9);
      await proc.exited;
    },
  };
  if (opts.waitReady !== false) await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 15_000, `tgwh at ${url} to be ready`, logs);
  return t;
}

/** Polls `check` until it holds; fails with `what` (and the process log) after `ms`. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string, logs?: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${logs ? `\n--- log ---\n${logs().slice(-4000)}` : ""}`);
    await Bun.sleep(25);
  }
}

/** Runs a tgwh subcommand to completion. */
export async function runTgwh(args: string[], env: Record<string, string | undefined> = {}, stdin?: string) {
  const merged: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged[k] = v;
  const proc = Bun.spawn([BINARY, ...args], { env: merged, stdout: "pipe", stderr: "pipe", stdin: stdin === undefined ? "ignore" : new Blob([stdin]) });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A private-chat text message update. */
export function messageUpdate(updateId: number, chatId: number, text: string, messageId = updateId): Record<string, unknown> {
  const entities = text.startsWith("/") ? [{ type: "bot_command", offset: 0, length: text.split(" ")[0]!.length }] : undefined;
  return {
    update_id: updateId,
    message: {
      message_id: messageId,
      date: Math.floor(Date.now() / 1000),
      chat: chatId > 0 ? { id: chatId, type: "private", first_name: "Test" } : { id: chatId, type: "supergroup", title: "Test group" },
      from: { id: Math.abs(chatId), is_bot: false, first_name: "Test" },
      text,
      ...(entities ? { entities } : {}),
    },
  };
}

/** POSTs an update the way Telegram does (secret header, JSON). */
export function postUpdate(url: string, update: unknown, secret = TEST_SECRET): Promise<Response> {
  return fetch(`${url}/telegram/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": secret },
    body: typeof update === "string" ? update : JSON.stringify(update),
  });
}
