/** Builds and runs bench/loader/fixed-rate.c, the open-loop loader of the sustained-capacity benchmark. */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { resolve } from "node:path";

const SOURCE = resolve(import.meta.dir, "../loader/fixed-rate.c");
const BINARY = resolve(import.meta.dir, "../../dist/fixed-rate");

export interface FixedRateResult {
  offered: number;
  due: number;
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** Due requests never sent (the server fell so far behind that the drain deadline passed). */
  unsent: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Most requests that were due but waiting for a free connection at once. */
  maxWaiting: number;
  seconds: number;
}

/** Compiles the loader into dist/ when it is missing or older than its source (needs cc). */
export function buildFixedRate(): string {
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= statSync(SOURCE).mtimeMs) return BINARY;
  mkdirSync(resolve(BINARY, ".."), { recursive: true });
  const cc = Bun.which("cc") ?? Bun.which("gcc");
  if (!cc) throw new Error("the sustained-capacity benchmark needs a C compiler for its loader: apt-get install -y gcc");
  const p = Bun.spawnSync([cc, "-O2", "-o", BINARY, SOURCE], { stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`building the fixed-rate loader failed: ${p.stderr.toString()}`);
  return BINARY;
}

export async function runFixedRate(o: { url: string; secret: string; rate: number; seconds: number; conns: number; firstUpdateId: number }): Promise<FixedRateResult> {
  const u = new URL(o.url);
  if (u.hostname !== "127.0.0.1") throw new Error(`the loader only targets 127.0.0.1, not ${u.hostname}`);
  const proc = Bun.spawn([buildFixedRate(), u.port, u.pathname, o.secret, String(o.rate), String(o.seconds), String(o.conns), String(o.firstUpdateId)], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`fixed-rate failed (exit ${code}): ${err}`);
  const j = JSON.parse(out.trim().split("\n").pop()!) as Record<string, number>;
  return {
    offered: j.offered!,
    due: j.due!,
    sent: j.sent!,
    ok: j.ok!,
    non2xx: j.non2xx!,
    errors: j.errors!,
    unsent: j.unsent!,
    p50Ms: j.p50_us! / 1000,
    p99Ms: j.p99_us! / 1000,
    maxMs: j.max_us! / 1000,
    maxWaiting: j.max_waiting!,
    seconds: j.seconds!,
  };
}
