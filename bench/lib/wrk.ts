/** Runs wrk with the update-posting Lua script and returns its figures. */
import { resolve } from "node:path";

export const WRK_SCRIPT = resolve(import.meta.dir, "../wrk/post-update.lua");

export interface WrkResult {
  conns: number;
  reqPerSec: number;
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
}

export interface WrkOptions {
  url: string;
  conns: number;
  seconds: number;
  secret: string;
  /** First update_id of this run; every request gets the next one. */
  updateBase: number;
  chats?: number;
}

export function wrkAvailable(): boolean {
  return Bun.which("wrk") !== null;
}

/** One wrk thread: the generator stays on one core, leaving the other to the contender. */
export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const proc = Bun.spawn(["wrk", "-t1", `-c${o.conns}`, `-d${o.seconds}s`, "--timeout", "10s", "-s", WRK_SCRIPT, o.url], {
    env: {
      ...process.env,
      BENCH_SECRET: o.secret,
      BENCH_UPDATE_BASE: String(o.updateBase),
      BENCH_CHATS: String(o.chats ?? 1000),
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const line = out.split("\n").find((l) => l.startsWith("WRKJSON "));
  if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}): ${err || out}`);
  const j = JSON.parse(line.slice(8)) as Record<string, number>;
  const errors = j.connect_errors! + j.read_errors! + j.write_errors! + j.status_errors! + j.timeouts!;
  return {
    conns: o.conns,
    requests: j.requests!,
    reqPerSec: j.requests! / (j.duration_us! / 1e6),
    errors,
    p50Ms: j.p50_us! / 1000,
    p99Ms: j.p99_us! / 1000,
  };
}
