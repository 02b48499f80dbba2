/**
 * Where each microsecond of an update goes in the compiled binary under load (issue 17, item 1).
 * Starts dist/tgwh (FULL, as in the ingest benchmark) with Bun's CPU profiler on, drives it with
 * wrk at 50 connections, and prints:
 * - CPU time per acknowledged update, per thread (main event loop, checkpoint thread, the thread
 *   pool that runs the WAL fdatasync, Bun's HTTP/GC helpers), from /proc: robust against the
 *   other processes on a shared machine, unlike req/s;
 * - the profile's shape: main-thread samples by category (HTTP, body, JSON, insert, commit, …),
 *   and the top functions by self time.
 * Run: bun bench/profile.ts [seconds=10] [conns=50] [FULL|NORMAL]   (needs wrk; uses 127.0.0.1 only)
 * Env: BENCH_TGWH_BINARY (another build), PROFILE_OUT (keep the .cpuprofile in this folder),
 * PROFILE_NOPROF=1 (no profiler: CPU per update without the sampler's own cost), PROFILE_ENV
 * (extra env for tgwh, "K=V,K=V": an experiment's switch).
 */
import { Database } from "bun:sqlite";
import { copyFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { removeDir, startTgwh, tempDir, TEST_SECRET } from "../test/support/tgwh";
import { startContender, stopFakeApi, tgwhBinary, tgwhEnv } from "./lib/contenders";
import { summariseProfile, TGWH_CATEGORIES as CATEGORIES } from "./lib/cpuprofile";
import { cpuDelta, threadCpu } from "./lib/proc-cpu";
import { fmt, table } from "./lib/stats";
import { runWrk } from "./lib/wrk";


const seconds = Number(process.argv[2] ?? 10);
const conns = Number(process.argv[3] ?? 50);
const sync = (process.argv[4] ?? "FULL") as "FULL" | "NORMAL";
const withProfiler = !process.env.PROFILE_NOPROF;

const dir = tempDir("tgwh-profile-");
const profDir = join(dir, "prof");
const counts = (dbPath: string) => {
  const db = new Database(dbPath, { readonly: true });
  try {
    const r = db.query("SELECT count(*) AS n, sum(state = 'done') AS done, max(id) AS maxId FROM jobs").get() as { n: number; done: number; maxId: number };
    return { n: r.n, done: r.done ?? 0 };
  } finally {
    db.close();
  }
};

/** CPU per request of a bare Bun.serve answering 200 under the same load: the HTTP server's own cost. */
async function bareCpuPerRequest(): Promise<number> {
  const bare = await startContender("bare");
  try {
    await runWrk({ url: bare.url, secret: bare.secret, conns, seconds: 1, updateBase: 1 });
    const a = threadCpu(bare.pid);
    const r = await runWrk({ url: bare.url, secret: bare.secret, conns, seconds: Math.min(5, seconds), updateBase: 2 });
    return (cpuDelta(a, threadCpu(bare.pid), bare.pid).main ?? 0) / r.requests;
  } finally {
    await bare.stop();
  }
}

try {
  // Needed only to split the profile; a CPU-only run skips it.
  const bareUs = withProfiler ? await bareCpuPerRequest() : 0;
  if (withProfiler) console.log(`bare Bun.serve: ${bareUs.toFixed(1)} µs of main-thread CPU per request`);
  const t = await startTgwh({
    binary: tgwhBinary(),
    dir,
    env: {
      ...tgwhEnv(sync),
      ...Object.fromEntries((process.env.PROFILE_ENV ?? "").split(",").filter(Boolean).map((kv) => kv.split("=") as [string, string])),
      ...(withProfiler ? { BUN_OPTIONS: `--cpu-prof --cpu-prof-dir=${profDir} --cpu-prof-interval=250` } : {}),
    },
  });
  const url = `${t.url}/telegram/webhook`;
  await runWrk({ url, secret: TEST_SECRET, conns, seconds: 1, updateBase: 1_000_000 });
  const c0 = counts(t.dbPath);
  const cpu0 = threadCpu(t.pid);
  const res = await runWrk({ url, secret: TEST_SECRET, conns, seconds, updateBase: 100_000_000 });
  const cpu1 = threadCpu(t.pid);
  const c1 = counts(t.dbPath);
  await t.stop();

  const stored = c1.n - c0.n;
  const done = c1.done - c0.done;
  const delta = cpuDelta(cpu0, cpu1, t.pid);
  const totalUs = Object.values(delta).reduce((a, b) => a + b, 0);
  console.log(`tgwh ${sync}, wrk -c${conns} ${seconds} s: ${fmt(res.reqPerSec)} req/s, p50 ${res.p50Ms.toFixed(2)} ms, p99 ${res.p99Ms.toFixed(2)} ms, errors ${res.errors}`);
  console.log(`stored ${fmt(stored)} updates, processed (done) ${fmt(done)} in the window; profiler ${withProfiler ? "on" : "off"}`);
  console.log("");
  console.log(
    table(
      ["thread", "CPU s", "µs per stored update"],
      Object.entries(delta)
        .sort((a, b) => b[1] - a[1])
        .filter(([, us]) => us > 0)
        .map(([name, us]) => [name, (us / 1e6).toFixed(2), (us / stored).toFixed(1)])
        .concat([["all threads", (totalUs / 1e6).toFixed(2), (totalUs / stored).toFixed(1)]]),
    ),
  );
  if (withProfiler) {
    const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error("no .cpuprofile written");
    if (process.env.PROFILE_OUT) copyFileSync(join(profDir, file), join(process.env.PROFILE_OUT, `tgwh-${sync}-c${conns}.cpuprofile`));
    const s = summariseProfile(join(profDir, file), CATEGORIES);
    const mainUs = delta.main ?? 0;
    // JSC's samples cover JavaScript and the native code it calls: the JS-visible share of the
    // main thread is its CPU minus the HTTP server's own native work (the bare server's figure).
    const jsUs = Math.max(0, mainUs - bareUs * stored);
    console.log("");
    console.log(`main thread: ${(mainUs / stored).toFixed(1)} µs CPU per stored update; JS samples over the process life (the load window is ~${seconds} s of it): ${fmt(s.totalUs / 1000)} ms`);
    console.log(
      table(
        ["category", "share of JS samples", "≈ µs per stored update"],
        [["HTTP server, native (bare Bun.serve's CPU per request, same load)", "–", bareUs.toFixed(1)] as (string | number)[]].concat(
          Object.entries(s.byCategory)
            .sort((a, b) => b[1] - a[1])
            .map(([k, us]) => [k, `${((100 * us) / s.totalUs).toFixed(1)} %`, ((jsUs * us) / s.totalUs / stored).toFixed(1)]),
        ),
      ),
    );
    console.log("");
    console.log("top self time:");
    for (const f of s.selfTop) console.log(`  ${((100 * f.us) / s.totalUs).toFixed(1).padStart(5)} %  ${f.frame}`);
    console.log("top inclusive time:");
    for (const f of s.inclusiveTop) console.log(`  ${((100 * f.us) / s.totalUs).toFixed(1).padStart(5)} %  ${f.frame}`);
  }
} finally {
  stopFakeApi();
  removeDir(dir);
}
