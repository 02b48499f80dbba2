import type { WorkerStatus } from "../queue/worker";
import type { AttemptError, AuditRow, Job, QueueSnapshot, ServiceAccount } from "../store/types";
import { jsonDepthExceeds } from "../json-body";
import { UPDATE_MAX_DEPTH } from "../telegram/updates";

/** Row → response shapes of the admin API (and the CLI's --json). Pure, no secrets in any of them. */

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

function attemptErrors(raw: string | null): { attempt: number; at: string; error: string }[] {
  if (!raw) return [];
  try {
    const list = JSON.parse(raw) as AttemptError[];
    return Array.isArray(list) ? list.map((e) => ({ attempt: e.attempt, at: iso(e.at), error: String(e.error) })) : [];
  } catch {
    return [];
  }
}

/**
 * The payload as JSON when it parses within the depth an update may have; otherwise the stored
 * text as it is. A row stored before the depth limit existed may nest thousands of levels, and
 * every consumer of the parsed value (response schema, JSON.stringify, the CLI) would recurse
 * through all of them.
 */
function parsedPayload(raw: string): unknown {
  if (jsonDepthExceeds(raw, UPDATE_MAX_DEPTH)) return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export function jobView(job: Job, withPayload: boolean) {
  return {
    id: job.id,
    kind: job.kind,
    state: job.state,
    dedupeKey: job.dedupeKey,
    orderKey: job.orderKey,
    updateId: job.kind === "telegram.update" ? job.seq : null,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    runAt: iso(job.runAt),
    createdAt: iso(job.createdAt),
    startedAt: isoOrNull(job.startedAt),
    finishedAt: isoOrNull(job.finishedAt),
    lastError: job.lastError,
    errors: attemptErrors(job.errors),
    ...(withPayload ? { payload: parsedPayload(job.payload) } : {}),
  };
}

export function queueView(snap: QueueSnapshot, worker: WorkerStatus) {
  const byState: Record<string, number> = { pending: 0, running: 0, done: 0, discarded: 0, dead: 0 };
  for (const c of snap.byStateKind) byState[c.state] = (byState[c.state] ?? 0) + c.count;
  byState.done = snap.doneEstimate;
  return {
    counts: snap.byStateKind.map((c) => ({ state: c.state, kind: c.kind, count: c.count })),
    byState,
    countLimit: snap.countLimit,
    doneEstimate: snap.doneEstimate,
    oldestPendingAgeSeconds: snap.oldestPendingAgeSeconds,
    dead: byState.dead ?? 0,
    worker: { running: worker.running, inFlight: worker.inFlight, lastRoundAt: isoOrNull(worker.lastRoundAt), lastError: worker.lastError },
  };
}

export const accountView = (a: ServiceAccount) => ({
  id: a.id,
  name: a.name,
  role: a.role,
  createdAt: iso(a.createdAt),
  revokedAt: isoOrNull(a.revokedAt),
  lastUsedAt: isoOrNull(a.lastUsedAt),
});

export const auditView = (r: AuditRow) => ({ id: r.id, at: iso(r.at), actor: r.actor, action: r.action, target: r.target, result: r.result, detail: r.detail });

/** The cursor of the next page: the last row's id when the page is full, else null. */
export const nextCursor = (rows: { id: number }[], limit: number): string | null =>
  rows.length === limit && rows.length > 0 ? String(rows[rows.length - 1]!.id) : null;
