/**
 * The chaos soak: `make soak DURATION=30m` (CI: test/soak/soak-ci.test.ts with 90 s).
 *
 * Runs dist/tgwh against the fake Bot API (Telegram's limits + 1 % 500s, 1 % timeouts, 429
 * bursts) while the Telegram simulator sends a steady stream; kills it with SIGKILL at random
 * moments and restarts it at once (as systemd's Restart=always would), restarts it once with
 * SIGTERM, takes a `tgwh backup` under load, queues notifications through the admin API. When the
 * time is up it drains everything and checks the invariants (see bench/sim/soak-analysis.ts),
 * then writes soak-report.json and soak.svg.
 */
import { Database } from "bun:sqlite";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runTgwh, startTgwh, tempDir, TEST_SECRET, type TgwhProcess } from "../test/support/tgwh";
import { startSimBotApi, type SimBotApi } from "./sim/fake-bot-api";
import { startNotifier, type Notifier } from "./sim/notifier";
import { analyse, integrityCheck, latencySummary, readJobs, readTgwhLogs, type Interruption } from "./sim/soak-analysis";
import { renderSoakSvg, type ChartEvent } from "./sim/soak-chart";
import { createTelegramSim } from "./sim/telegram-sim";

export interface SoakOptions {
  durationS: number;
  ratePerSecond: number;
  /** Mean seconds between kill -9s (each gap is uniform in [0.5, 1.5] × this); 0 = none. */
  killEveryS: number;
  sigtermRestart: boolean;
  backup: boolean;
  /** Share of acked private messages that also queue a notification through the admin API. */
  notifyShare: number;
  workerConcurrency: number;
  /** Number of injected 429 bursts spread over the run. */
  bursts429: number;
  /**
   * Freeze tgwh for 50–400 ms every 0.3–1.5 s (SIGSTOP/SIGCONT), as a starved CPU or a stalled VM
   * would: a send decided just before a freeze reaches the Bot API late, together with the ones
   * decided after it. The send limits must hold where the fake Bot API counts them, on arrival.
   */
  stallGateway: boolean;
  error500: number;
  timeouts: number;
  outDir: string;
  seed: number;
  /** Progress lines (every 10 s). */
  log: (line: string) => void;
}

export const DEFAULT_SOAK: SoakOptions = {
  durationS: 1800,
  ratePerSecond: 200,
  killEveryS: 60,
  sigtermRestart: true,
  backup: true,
  notifyShare: 0.03,
  workerConcurrency: 8,
  bursts429: 3,
  stallGateway: false,
  error500: 0.01,
  timeouts: 0.01,
  outDir: "bench/soak-out",
  seed: 7,
  log: (l) => console.log(l),
};

export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(s.trim());
  if (!m) throw new Error(`bad duration '${s}': use e.g. 90s, 30m, 1h`);
  return Number(m[1]) * (m[2] === "h" ? 3600 : m[2] === "m" ? 60 : 1);
}

function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

interface Sample {
  t: number;
  acked: number;
  queue: number | null;
  rssMb: number | null;
  simBacklog: number;
}

export async function runSoak(partial: Partial<SoakOptions> = {}) {
  const o: SoakOptions = { ...DEFAULT_SOAK, ...partial };
  const outDir = resolve(o.outDir);
  mkdirSync(outDir, { recursive: true });
  const dir = tempDir("tgwh-soak-");
  const dbPath = join(dir, "tgwh.db");
  const port = freePort();
  let seedState = o.seed;
  const rand = () => ((seedState = (seedState * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

  const api: SimBotApi = startSimBotApi({ faults: { error500: o.error500, timeout: o.timeouts, timeoutMs: 16_000 } });
  const env = {
    TGWH_TELEGRAM_API: api.url,
    TGWH_PUBLIC_URL: "https://tg.example.test",
    TGWH_LOG_LEVEL: "info",
    TGWH_SEND_PER_SECOND: "30",
    TGWH_LEASE_SECONDS: "30",
    TGWH_SHUTDOWN_SECONDS: "10",
    TGWH_WORKER_CONCURRENCY: String(o.workerConcurrency),
  };
  const start = () => startTgwh({ dir, dbPath, port, env });
  const cliEnv = { TGWH_DB: dbPath, HOME: dir, ...env };
  let tg: TgwhProcess = await start();
  o.log(`[soak] tgwh on ${tg.url}, database and logs in ${dir}`);
  const t0 = Date.now();
  const notes: string[] = [];
  const events: (ChartEvent & { at: number; detail?: string })[] = [];
  const interruptions: Interruption[] = [];
  let restarts = 0;

  const notifier: Notifier = await startNotifier({ url: tg.url, cliEnv, log: o.log });
  if (!notifier.available) notes.push(`notifications not exercised: ${notifier.reason}`);

  const sim = createTelegramSim({
    url: tg.url,
    secret: TEST_SECRET,
    ratePerSecond: o.ratePerSecond,
    seed: o.seed,
    onAck: (u) => {
      if (u.kind === "private_text" && notifier.available && rand() < o.notifyShare) notifier.queue(u.chatId);
    },
  });

  const reader = new Database(dbPath, { readonly: true });
  const depthQuery = reader.query("SELECT count(*) AS n FROM jobs WHERE state IN ('pending', 'running')");
  const depth = (): number | null => {
    try {
      return (depthQuery.get() as { n: number }).n;
    } catch {
      return null;
    }
  };
  const samples: Sample[] = [];
  const sampler = setInterval(() => {
    samples.push({ t: (Date.now() - t0) / 1000, acked: sim.stats.acked, queue: depth(), rssMb: rssMb(tg.pid), simBacklog: sim.stats.backlog });
    const s = samples[samples.length - 1]!;
    if (samples.length % 10 === 0) {
      o.log(`[soak ${s.t.toFixed(0)}s] acked ${s.acked} backlog ${s.simBacklog} queue ${s.queue} rss ${s.rssMb?.toFixed(0)} MB restarts ${restarts} sends ${api.delivered().length} violations ${api.violations.length}`);
    }
  }, 1000);

  sim.start();
  const end = t0 + o.durationS * 1000;
  const stalls = o.stallGateway ? startStalls(() => tg.pid, o.seed, end) : null;
  const plan: { at: number; kind: ChartEvent["kind"] }[] = [];
  if (o.killEveryS > 0) {
    for (let t = t0 + o.killEveryS * (0.5 + rand()) * 1000; t < end - 5000; t += o.killEveryS * (0.5 + rand()) * 1000) plan.push({ at: t, kind: "kill9" });
  }
  if (o.sigtermRestart) plan.push({ at: t0 + o.durationS * 450, kind: "sigterm" });
  if (o.backup) plan.push({ at: t0 + o.durationS * 300, kind: "backup" });
  for (let i = 1; i <= o.bursts429; i++) plan.push({ at: t0 + (o.durationS * 1000 * i) / (o.bursts429 + 1) + 7000, kind: "burst429" });
  plan.sort((a, b) => a.at - b.at);

  let backupFile: string | null = null;
  for (const step of plan) {
    if (Date.now() < step.at) await Bun.sleep(step.at - Date.now());
    const at = Date.now();
    if (step.kind === "kill9" || step.kind === "sigterm") {
      if (step.kind === "kill9") await tg.kill9();
      else await tg.stop("SIGTERM");
      const gone = Date.now();
      interruptions.push({ at: gone, kind: step.kind });
      tg = await start();
      restarts++;
      events.push({ t: (at - t0) / 1000, at, kind: step.kind, detail: `down ${Date.now() - at} ms` });
    } else if (step.kind === "backup") {
      backupFile = join(dir, "backup.db");
      const r = await runTgwh(["backup", backupFile], cliEnv);
      if (r.code !== 0) {
        notes.push(`tgwh backup unavailable or failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
        backupFile = null;
      }
      events.push({ t: (at - t0) / 1000, at, kind: "backup", detail: `exit ${r.code} in ${Date.now() - at} ms` });
    } else {
      api.burst429(2000, 2);
      events.push({ t: (at - t0) / 1000, at, kind: "burst429" });
    }
  }
  if (Date.now() < end) await Bun.sleep(end - Date.now());
  const stalled = await stalls?.stop();
  if (stalled) notes.push(`tgwh frozen ${stalled.count} times, ${stalled.totalMs} ms in all`);

  // Drain: Telegram stops sending new updates; everything it sent must be acked and processed.
  sim.stopGenerating();
  o.log(`[soak] time is up; draining (backlog ${sim.stats.backlog}, queue ${depth()})`);
  const simDrained = await sim.drained(180_000);
  await notifier.drained(60_000);
  const drainDeadline = Date.now() + 180_000;
  while ((depth() ?? 1) > 0 && Date.now() < drainDeadline) await Bun.sleep(200);
  const queueLeft = depth();
  const drainedAt = Date.now();
  clearInterval(sampler);
  sim.stop();
  reader.close();
  const exitCode = await tg.stop("SIGTERM");
  notifier.stop();

  const logFiles = readdirSync(dir).filter((f) => /^tgwh-.*\.log(\.err)?$/.test(f)).map((f) => join(dir, f));
  const jobs = readJobs(dbPath);
  const analysis = analyse({
    records: sim.records.values(),
    jobs,
    delivered: api.delivered(),
    violations: api.violations,
    interruptions,
    ...(await readTgwhLogs(logFiles)),
    concurrency: o.workerConcurrency,
    notifications: notifier.accepted,
  });
  api.stop();
  const integrity = integrityCheck(dbPath);
  let backupCheck: Record<string, unknown> | null = null;
  if (backupFile) {
    const b = new Database(backupFile, { readonly: true });
    backupCheck = { integrity: (b.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check, jobs: (b.query("SELECT count(*) AS n FROM jobs").get() as { n: number }).n };
    b.close();
  }

  const rss = samples.map((s) => s.rssMb).filter((v): v is number => v !== null);
  const report = {
    generatedAt: new Date().toISOString(),
    options: { ...o, log: undefined, outDir: undefined },
    durationS: o.durationS,
    drainSeconds: (drainedAt - end) / 1000,
    sim: { ...sim.stats, drained: simDrained },
    queueLeftAfterDrain: queueLeft,
    restartsSurvived: restarts,
    kills: interruptions.filter((i) => i.kind === "kill9").length,
    finalExitCode: exitCode,
    peakQueueDepth: Math.max(0, ...samples.map((s) => s.queue ?? 0)),
    rssMb: { min: rss.length ? Math.min(...rss) : null, max: rss.length ? Math.max(...rss) : null, last: rss[rss.length - 1] ?? null },
    injected: api.injected,
    integrityCheck: integrity,
    backup: backupCheck,
    startedAt: new Date(t0).toISOString(),
    events: events.map((e) => ({ t: Number(e.t.toFixed(1)), at: new Date(e.at).toISOString(), kind: e.kind, detail: e.detail })),
    notes,
    ...analysis,
    checks: {
      ...analysis.checks,
      drained: { value: queueLeft, ok: simDrained && queueLeft === 0 },
      integrity: { value: integrity, ok: integrity === "ok" },
      cleanExit: { value: exitCode, ok: exitCode === 0 },
    },
    timeline: timeline(samples, jobs, t0),
  };
  report.ok = Object.values(report.checks).every((c) => c.ok);
  writeFileSync(join(outDir, "soak-report.json"), JSON.stringify(report, null, 2));
  writeFileSync(join(outDir, "soak.svg"), chart(report, events));
  return { report, dir };
}

/**
 * Freezes the current tgwh process (pid() follows restarts) for 50–400 ms every 0.3–1.5 s until
 * `until`. A kill -9 meanwhile ends a frozen process as any other; a SIGTERM waits for the thaw.
 */
function startStalls(pid: () => number, seed: number, until: number) {
  let state = seed + 1; // its own sequence: the kill plan stays the same with or without stalls
  const rand = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let running = true;
  let count = 0;
  let totalMs = 0;
  const loop = (async () => {
    while (running && Date.now() < until) {
      await Bun.sleep(300 + rand() * 1200);
      const target = pid();
      const ms = Math.round(50 + rand() * 350);
      try {
        process.kill(target, "SIGSTOP");
      } catch {
        continue; // between a kill and the restart
      }
      await Bun.sleep(ms);
      try {
        process.kill(target, "SIGCONT");
      } catch {
        // killed while frozen
      }
      count++;
      totalMs += ms;
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { count, totalMs };
    },
  };
}

/** Per-10 s figures for the chart and the report. */
function timeline(samples: Sample[], jobs: { kind: string; state: string; createdAt: number; finishedAt: number | null }[], t0: number) {
  const bucketS = 10;
  const out: { t: number; ackPerS: number; queue: number; p99Ms: number | null; rssMb: number | null }[] = [];
  const lat = new Map<number, number[]>();
  for (const j of jobs) {
    if ((j.state !== "done" && j.state !== "discarded") || j.finishedAt === null) continue;
    const b = Math.floor((j.finishedAt - t0) / 1000 / bucketS);
    (lat.get(b) ?? lat.set(b, []).get(b)!).push(j.finishedAt - j.createdAt);
  }
  const last = samples[samples.length - 1]?.t ?? 0;
  for (let b = 0; b * bucketS <= last; b++) {
    const inB = samples.filter((s) => s.t >= b * bucketS && s.t < (b + 1) * bucketS);
    if (inB.length === 0) continue;
    const prev = samples.filter((s) => s.t < b * bucketS).at(-1);
    const acked = inB.at(-1)!.acked - (prev?.acked ?? 0);
    const span = inB.at(-1)!.t - (prev?.t ?? 0);
    out.push({
      t: b * bucketS,
      ackPerS: Number((acked / Math.max(1, span)).toFixed(1)),
      queue: Math.max(0, ...inB.map((s) => s.queue ?? 0)),
      p99Ms: latencySummary(lat.get(b) ?? []).p99Ms,
      rssMb: inB.at(-1)!.rssMb,
    });
  }
  return out;
}

export function chart(report: { durationS: number; acked: number; checks: Record<string, { ok: boolean; value: unknown }>; latency: { updates: { p99Ms: number | null } }; ok?: boolean }, events: ChartEvent[]) {
  const tl = (report as unknown as { timeline: ReturnType<typeof timeline> }).timeline;
  const c = report.checks;
  return renderSoakSvg({
    title: `tgwh chaos soak: ${Math.round(report.durationS / 60)} min, ${report.acked} updates acked, ${report.ok ? "all checks passed" : "CHECKS FAILED"}`,
    subtitle: `dropped ${c.dropped!.value} · completed twice ${c.completedTwice!.value} · self-caused 429s ${c.selfCaused429!.value} · p99 received→done ${report.latency.updates.p99Ms} ms`,
    durationS: Math.max(report.durationS, tl.at(-1)?.t ?? 0),
    events,
    series: [
      { title: "Webhook ack rate", unit: "updates/s acked with 2xx, 10 s buckets", color: "#2ca02c", points: tl.map((p) => ({ t: p.t, v: p.ackPerS })) },
      { title: "Queue depth", unit: "pending + running jobs, max per 10 s", color: "#1f77b4", points: tl.map((p) => ({ t: p.t, v: p.queue })) },
      { title: "p99 received → done", unit: "ms, jobs finished in each 10 s", color: "#d62728", points: tl.filter((p) => p.p99Ms !== null).map((p) => ({ t: p.t, v: p.p99Ms! })) },
      { title: "tgwh RSS", unit: "MB", color: "#7f7f7f", points: tl.filter((p) => p.rssMb !== null).map((p) => ({ t: p.t, v: p.rssMb! })) },
    ],
  });
}

if (import.meta.main) {
  const env = process.env;
  const { report } = await runSoak({
    durationS: parseDuration(env.DURATION ?? "30m"),
    ratePerSecond: Number(env.RATE ?? DEFAULT_SOAK.ratePerSecond),
    killEveryS: parseDuration(env.KILL_EVERY ?? "60s"),
    outDir: env.OUT ?? DEFAULT_SOAK.outDir,
    seed: Number(env.SEED ?? DEFAULT_SOAK.seed),
    sigtermRestart: env.SIGTERM !== "0",
    backup: env.BACKUP !== "0",
    bursts429: Number(env.BURSTS ?? DEFAULT_SOAK.bursts429),
    stallGateway: env.STALL === "1",
    error500: Number(env.ERROR500 ?? DEFAULT_SOAK.error500),
    timeouts: Number(env.TIMEOUTS ?? DEFAULT_SOAK.timeouts),
    workerConcurrency: Number(env.CONCURRENCY ?? DEFAULT_SOAK.workerConcurrency),
  });
  const { timeline: _t, ...summary } = report;
  console.log(JSON.stringify({ ...summary, violations: undefined, reruns: { ...summary.reruns, perInterruption: undefined } }, null, 2));
  console.log(report.ok ? "SOAK PASSED" : "SOAK FAILED");
  process.exit(report.ok ? 0 : 1);
}
