/**
 * The soak's verdict, computed after the run from three independent records:
 * - the simulator: which update_ids got a 2xx (Telegram would never resend those);
 * - the real SQLite file, opened read-only: which jobs reached `done`, when;
 * - the fake Bot API: every send it delivered (answered 200), and every limit tgwh broke;
 * plus tgwh's own log lines ("job done" per job id) across every restart.
 */
import { Database } from "bun:sqlite";
import { createReadStream, existsSync } from "node:fs";
import { createInterface } from "node:readline";
import type { RecordedCall } from "../../test/support/fake-bot-api";
import type { Violation } from "./fake-bot-api";
import type { UpdateRecord } from "./telegram-sim";

export interface JobFact {
  id: number;
  seq: number;
  kind: string;
  dedupeKey: string;
  state: string;
  createdAt: number;
  finishedAt: number | null;
  attempts: number;
  lastError: string | null;
}

export function readJobs(dbPath: string): JobFact[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db
      .query(
        `SELECT id, seq, kind, dedupe_key AS dedupeKey, state, created_at AS createdAt, finished_at AS finishedAt,
           attempts, last_error AS lastError FROM jobs`,
      )
      .all() as JobFact[];
  } finally {
    db.close();
  }
}

export function integrityCheck(dbPath: string): string {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
  } finally {
    db.close();
  }
}

/**
 * Reads tgwh's logs of every process run: "job done" lines per job id, and per restart how many
 * jobs the new process took back from its killed predecessor (those re-run: at-least-once).
 */
export async function readTgwhLogs(logFiles: string[]): Promise<{ doneLines: Map<number, number>; takenBack: number[] }> {
  const counts = new Map<number, number>();
  const takenBack: number[] = [];
  for (const f of logFiles) {
    if (!existsSync(f)) continue;
    const rl = createInterface({ input: createReadStream(f), crlfDelay: Infinity });
    for await (const line of rl) {
      if (line.includes('"msg":"took back jobs')) {
        const n = /"released":(\d+)/.exec(line);
        if (n) takenBack.push(Number(n[1]));
      }
      if (!line.includes('"msg":"job done"')) continue;
      try {
        const id = (JSON.parse(line) as { jobId?: number }).jobId;
        if (typeof id === "number") counts.set(id, (counts.get(id) ?? 0) + 1);
      } catch {
        // a line cut by kill -9
      }
    }
  }
  return { doneLines: counts, takenBack };
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function latencySummary(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  return { count: s.length, p50Ms: percentile(s, 50), p95Ms: percentile(s, 95), p99Ms: percentile(s, 99), maxMs: s.length ? s[s.length - 1]! : null };
}

/** Something that interrupts running jobs: a kill -9 or a SIGTERM restart. */
export interface Interruption {
  at: number;
  kind: "kill9" | "sigterm";
}

export interface AnalysisInput {
  records: Iterable<UpdateRecord>;
  jobs: JobFact[];
  delivered: RecordedCall[];
  violations: Violation[];
  interruptions: Interruption[];
  doneLines: Map<number, number>;
  /** Jobs each restarted process took back from the one before it (re-runs). */
  takenBack?: number[];
  concurrency: number;
  /** Notifications queued through the admin API: marker text → when it was accepted. */
  notifications: Map<string, number>;
}

/** Where a delivered send belongs: a reply to one message, or a queued notification. */
function sendTarget(c: RecordedCall): string | null {
  const text = String(c.payload.text ?? "");
  const m = /\[soak-notify ([\w-]+)\]/.exec(text);
  if (m) return `notify:${m[1]}`;
  const rp = c.payload.reply_parameters as { message_id?: number } | undefined;
  if (rp?.message_id !== undefined) return `reply:${c.payload.chat_id}:${rp.message_id}`;
  return null;
}

export function analyse(input: AnalysisInput) {
  const updateJobs = new Map<number, JobFact>();
  const notifyJobs: JobFact[] = [];
  for (const j of input.jobs) {
    if (j.kind === "telegram.update") updateJobs.set(j.seq, j);
    else if (j.kind === "notify.send") notifyJobs.push(j);
  }
  const deliveries = new Map<string, number[]>();
  for (const c of input.delivered) {
    const t = sendTarget(c);
    if (t) (deliveries.get(t) ?? deliveries.set(t, []).get(t)!).push(c.at);
  }

  const dropped: { updateId: number; why: string }[] = [];
  const completedTwice: { updateId: number; why: string }[] = [];
  let acked = 0;
  let expectedReplies = 0;
  const latencies: number[] = [];
  for (const r of input.records) {
    if (r.ackAt === null) continue;
    acked++;
    const id = r.update.updateId;
    const job = updateJobs.get(id);
    if (!job) {
      dropped.push({ updateId: id, why: "acked with 2xx but no job row" });
      continue;
    }
    // discarded: processed, and Telegram refused the reply for good (the reply check below excuses it).
    if (job.state !== "done" && job.state !== "discarded") {
      dropped.push({ updateId: id, why: `job state is ${job.state}: ${job.lastError ?? ""}` });
      continue;
    }
    latencies.push(job.finishedAt! - job.createdAt);
    if (r.update.expectReply) {
      expectedReplies++;
      const key = `reply:${r.update.expectReply.chatId}:${r.update.expectReply.replyTo}`;
      const sends = deliveries.get(key) ?? [];
      if (sends.length === 0 && job.lastError === null) dropped.push({ updateId: id, why: "done, but its reply was never delivered" });
      const late = sends.filter((at) => at > job.finishedAt!);
      if (late.length > 0) completedTwice.push({ updateId: id, why: `reply delivered ${late.length}× after the job was done` });
    }
    const lines = input.doneLines.get(job.id) ?? 0;
    if (lines > 1) completedTwice.push({ updateId: id, why: `"job done" logged ${lines}×` });
  }

  for (const j of notifyJobs) {
    const lines = input.doneLines.get(j.id) ?? 0;
    if (lines > 1) completedTwice.push({ updateId: -j.id, why: `notification job ${j.id}: "job done" logged ${lines}×` });
  }

  // Repeated deliveries: legitimate only as an at-least-once re-run of a job that was running
  // when the process was interrupted, so each must straddle an interruption moment.
  const perInterruption = new Map<number, number>();
  const unexplainedRepeats: { target: string; at: number }[] = [];
  let repeatedSends = 0;
  for (const [target, ats] of deliveries) {
    ats.sort((a, b) => a - b);
    for (let i = 1; i < ats.length; i++) {
      repeatedSends++;
      const k = input.interruptions.findLast((x) => x.at >= ats[0]! && x.at <= ats[i]!);
      if (!k) unexplainedRepeats.push({ target, at: ats[i]! });
      else perInterruption.set(k.at, (perInterruption.get(k.at) ?? 0) + 1);
    }
  }
  const maxRepeatsPerInterruption = Math.max(0, ...perInterruption.values());
  const takenBack = input.takenBack ?? [];
  const maxTakenBack = Math.max(0, ...takenBack);

  const notifyLatencies: number[] = [];
  let notifyWithin30s = 0;
  let notifyMissing = 0;
  for (const [marker, acceptedAt] of input.notifications) {
    const sends = deliveries.get(`notify:${marker}`);
    if (!sends || sends.length === 0) {
      notifyMissing++;
      continue;
    }
    const ms = Math.min(...sends) - acceptedAt;
    notifyLatencies.push(ms);
    if (ms <= 30_000) notifyWithin30s++;
  }

  const deadJobs = input.jobs.filter((j) => j.state === "dead").length;
  const checks = {
    dropped: { value: dropped.length, ok: dropped.length === 0 },
    completedTwice: { value: completedTwice.length, ok: completedTwice.length === 0 },
    selfCaused429: { value: input.violations.length, ok: input.violations.length === 0 },
    unexplainedRepeatedSends: { value: unexplainedRepeats.length, ok: unexplainedRepeats.length === 0 },
    rerunsPerRestartWithinConcurrency: { value: maxTakenBack, limit: input.concurrency, ok: maxTakenBack <= input.concurrency },
    repeatsPerInterruptionWithinConcurrency: {
      value: maxRepeatsPerInterruption,
      limit: input.concurrency,
      ok: maxRepeatsPerInterruption <= input.concurrency,
    },
    notificationsMissing: { value: notifyMissing, ok: notifyMissing === 0 },
  };
  return {
    acked,
    expectedReplies,
    deliveredSends: input.delivered.length,
    deadJobs,
    dropped: dropped.slice(0, 50),
    completedTwice: completedTwice.slice(0, 50),
    reruns: {
      jobsTakenBackAtRestart: takenBack.reduce((a, b) => a + b, 0),
      maxTakenBackPerRestart: maxTakenBack,
      repeatedSends,
      interruptions: input.interruptions.length,
      maxPerInterruption: maxRepeatsPerInterruption,
      perInterruption: [...perInterruption].map(([at, n]) => ({ at: new Date(at).toISOString(), repeats: n })),
      unexplained: unexplainedRepeats.slice(0, 50),
    },
    violations: input.violations.slice(0, 50),
    latency: { updates: latencySummary(latencies), notifications: latencySummary(notifyLatencies) },
    notifications: {
      queued: input.notifications.size,
      delivered: notifyLatencies.length,
      within30s: notifyWithin30s,
      shareWithin30s: notifyLatencies.length ? notifyWithin30s / input.notifications.size : null,
    },
    checks,
    ok: Object.values(checks).every((c) => c.ok),
  };
}

export type Analysis = ReturnType<typeof analyse>;
