/**
 * Throwaway redis-server instances for tests: a temporary folder, a free loopback port, no
 * persistence, stopped by pid. Debian's `redis-server` must be installed (.ci/run installs it).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export const REDIS_SERVER = process.env.TGWH_TEST_REDIS_SERVER ?? "/usr/bin/redis-server";
/** make test installs it (scripts/test-prereqs.sh); with TGWH_TEST_PREREQS=skip the Redis tests skip instead. */
export const HAVE_REDIS = existsSync(REDIS_SERVER);
if (!HAVE_REDIS) console.warn(`${REDIS_SERVER} is missing: the Redis tests are skipped (apt-get install -y redis-server)`);

export interface TestRedis {
  url: string;
  port: number;
  pid(): number | null;
  /** Stops the server (SIGTERM, waits for it to exit). Its data is gone: it keeps none. */
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop), empty. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that hangs without closing its connections. */
  pause(): void;
  resume(): void;
  /** Stops it and removes its folder. */
  dispose(): Promise<void>;
  log(): string;
}

const running = new Set<Subprocess>();
process.on("exit", () => {
  for (const p of running) p.kill(9);
});

/** A port nobody listens on right now (the kernel's pick, released at once). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function listening(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

export interface RedisOptions {
  /** requirepass: the URL then carries it (redis://:password@…), as a production URL may. */
  password?: string;
}

export async function startRedis(opts: RedisOptions = {}): Promise<TestRedis> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} is missing: apt-get install -y redis-server (.ci/run installs it)`);
  const dir = mkdtempSync(join(tmpdir(), "tgwh-redis-"));
  const port = await freePort();
  const logPath = join(dir, "redis.log");
  let proc: Subprocess | null = null;

  async function spawn() {
    proc = Bun.spawn(
      [REDIS_SERVER, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", logPath, "--daemonize", "no", ...(opts.password ? ["--requirepass", opts.password] : [])],
      { stdout: "ignore", stderr: "ignore", stdin: "ignore" },
    );
    running.add(proc);
    const p = proc;
    p.exited.then(() => running.delete(p));
    const deadline = Date.now() + 10_000;
    while (!(await listening(port))) {
      if (p.exitCode !== null) throw new Error(`redis-server exited with ${p.exitCode}:\n${readLog()}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port} within 10 s:\n${readLog()}`);
      await Bun.sleep(20);
    }
  }
  const readLog = () => (existsSync(logPath) ? readFileSync(logPath, "utf8") : "");

  async function stop() {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    p.kill(18); // SIGCONT first: a paused server cannot act on SIGTERM
    p.kill("SIGTERM");
    await p.exited;
  }

  await spawn();
  return {
    url: opts.password ? `redis://:${encodeURIComponent(opts.password)}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`,
    port,
    pid: () => proc?.pid ?? null,
    stop,
    async restart() {
      await stop();
      await spawn();
    },
    pause: () => proc?.kill("SIGSTOP"),
    resume: () => proc?.kill("SIGCONT"),
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    log: readLog,
  };
}
