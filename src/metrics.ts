import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { COUNTED_STATES, QUEUE_COUNT_LIMIT } from "./store/job-rules";
import type { QueueSnapshot } from "./store/types";

export const WEBHOOK_OUTCOMES = ["stored", "duplicate", "unauthorized", "bad_request", "too_large", "unsupported_media_type", "unavailable"] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

/**
 * A labelled metric's child for one value of one label, resolved once per value: prom-client
 * hashes the label object on every inc()/observe() otherwise, a measurable cost on the hot path
 * (one per webhook request, several per job). Values must be bounded like every label here.
 */
export function childrenBy<T>(metric: { labels(labels: Record<string, string>): T }, label: string): (value: string) => T {
  const children = new Map<string, T>();
  return (value) => {
    let child = children.get(value);
    if (child === undefined) {
      child = metric.labels({ [label]: value });
      children.set(value, child);
    }
    return child;
  };
}

/** Job kinds whose series exist from the start (at 0), so rate() and increase() see their first event. */
export const KNOWN_JOB_KINDS = ["telegram.update", "notify.send"] as const;

/**
 * Every metric tgwh exports, created on one registry passed around explicitly. Labels are
 * bounded: outcomes, kinds, states, methods and codes; never a chat, user or update id.
 */
export function createMetrics(opts: { version: string; commit: string }) {
  let queueSnapshot: (() => Promise<QueueSnapshot>) | null = null;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "tgwh_" });

  const buildInfo = new Gauge({ name: "tgwh_build_info", help: "Build of the running binary (always 1).", labelNames: ["version", "commit"], registers: [registry] });
  buildInfo.set({ version: opts.version, commit: opts.commit }, 1);

  const m = {
    registry,
    /**
     * Which gateway answers this scrape: Prometheus labels every series with the scrape target
     * (`instance`, host:port) itself, so tgwh adds no instance label of its own (it would clash
     * and turn into `exported_instance`); this series maps a target to its TGWH_INSTANCE_ID, the
     * name in jobs' lease_owner, and says which store it runs on.
     */
    gatewayInfo: new Gauge({
      name: "tgwh_gateway_info",
      help: "This gateway (always 1): TGWH_INSTANCE_ID, the prefix of its job leases, and its store (sqlite, or postgres shared by all gateways).",
      labelNames: ["gateway", "store"],
      registers: [registry],
    }),
    webhookRequests: new Counter({
      name: "tgwh_webhook_requests_total",
      help: "Webhook requests by outcome: stored and duplicate (200), unauthorized (401), bad_request (400), too_large (413), unsupported_media_type (415), unavailable (503).",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    webhookAckSeconds: new Histogram({
      name: "tgwh_webhook_ack_seconds",
      help: "Time from receiving a webhook request to answering it (includes the durable commit).",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    dbCommits: new Counter({ name: "tgwh_db_commits_total", help: "Group-commit transactions.", registers: [registry] }),
    dbCommitOps: new Counter({ name: "tgwh_db_commit_ops_total", help: "Write operations carried by group commits.", registers: [registry] }),
    dbCommitFailures: new Counter({ name: "tgwh_db_commit_failures_total", help: "Group commits that failed (nothing in them was acknowledged).", registers: [registry] }),
    dbCommitSeconds: new Histogram({
      name: "tgwh_db_commit_seconds",
      help: "Duration of one group-commit transaction including fsync.",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    dbCheckpointThreadUp: new Gauge({
      name: "tgwh_db_checkpoint_thread_up",
      help: "1 while WAL checkpoints run on their own thread; 0 when the main connection checkpoints itself (slower commits).",
      registers: [registry],
    }),
    dbCheckpoints: new Counter({ name: "tgwh_db_checkpoints_total", help: "WAL checkpoint passes of the checkpoint thread.", registers: [registry] }),
    dbCheckpointFailures: new Counter({ name: "tgwh_db_checkpoint_failures_total", help: "WAL checkpoint failures on the checkpoint thread (disk full, I/O error), each distinct error once; it retries every second.", registers: [registry] }),
    jobsEnqueued: new Counter({ name: "tgwh_jobs_enqueued_total", help: "Jobs stored (duplicates excluded).", labelNames: ["kind"], registers: [registry] }),
    jobsStarted: new Counter({ name: "tgwh_jobs_started_total", help: "Job attempts started.", labelNames: ["kind"], registers: [registry] }),
    jobsSucceeded: new Counter({ name: "tgwh_jobs_succeeded_total", help: "Jobs finished done (the handler succeeded).", labelNames: ["kind"], registers: [registry] }),
    jobsDiscarded: new Counter({ name: "tgwh_jobs_discarded_total", help: "Jobs discarded: a permanent error retrying cannot fix (e.g. 403 bot blocked, 400 chat not found).", labelNames: ["kind"], registers: [registry] }),
    jobsRetried: new Counter({ name: "tgwh_jobs_retried_total", help: "Failed attempts scheduled again with backoff.", labelNames: ["kind"], registers: [registry] }),
    jobsRescheduled: new Counter({ name: "tgwh_jobs_rescheduled_total", help: "Attempts deferred by a rate limit (429 or local send limit) without spending an attempt.", labelNames: ["kind"], registers: [registry] }),
    jobsDead: new Counter({ name: "tgwh_jobs_dead_total", help: "Jobs moved to dead after their last attempt.", labelNames: ["kind"], registers: [registry] }),
    leasesExpired: new Counter({ name: "tgwh_job_leases_expired_total", help: "Running jobs whose lease expired (crash or stall): back to pending, or to dead with no attempts left.", registers: [registry] }),
    jobProcessingSeconds: new Histogram({
      name: "tgwh_job_processing_seconds",
      help: "Time from a job being received (created) to finishing done, by kind. SLA for notifications: 30 s.",
      labelNames: ["kind"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 45, 60, 120, 300, 900],
      registers: [registry],
    }),
    botApiCalls: new Counter({
      name: "tgwh_bot_api_requests_total",
      help: "Bot API calls by method and result code (200, 4xx/5xx error_code, or 'network').",
      labelNames: ["method", "code"],
      registers: [registry],
    }),
    botApiRetryAfterSeconds: new Counter({ name: "tgwh_bot_api_retry_after_seconds_total", help: "Seconds of retry_after Telegram asked us to wait on 429s.", registers: [registry] }),
    sendLimitDeferrals: new Counter({ name: "tgwh_send_limit_deferrals_total", help: "Sends deferred by tgwh's own send limiter, by what made them wait: chat, group, global, or hold (a 429 held the whole bot).", labelNames: ["scope"], registers: [registry] }),
    authValidations: new Counter({ name: "tgwh_auth_validations_total", help: "Auth validations by method and outcome.", labelNames: ["method", "outcome"], registers: [registry] }),
    authRateLimited: new Counter({ name: "tgwh_auth_rate_limited_total", help: "Auth requests rejected by the rate limiter, by scope.", labelNames: ["scope"], registers: [registry] }),
    workerUp: new Gauge({ name: "tgwh_worker_up", help: "1 while the worker loop is running.", registers: [registry] }),
    queueJobs: new Gauge({
      name: "tgwh_queue_jobs",
      help: `Jobs by state (pending, running, discarded, dead) and kind, read at scrape time; each count stops at ${QUEUE_COUNT_LIMIT} (that value means at least that many). Discarded jobs stay until retention prunes them.`,
      labelNames: ["state", "kind"],
      registers: [registry],
    }),
    queueDoneEstimate: new Gauge({
      name: "tgwh_queue_done_jobs_estimate",
      help: "Done jobs kept for dedupe until retention prunes them (estimated from their id span: an upper bound).",
      registers: [registry],
    }),
    queueOldestPendingAge: new Gauge({ name: "tgwh_queue_oldest_pending_age_seconds", help: "Age of the oldest runnable pending job (0 when none).", registers: [registry] }),
    /** Wires the scrape-time queue gauges to the store (the store is built after the metrics). */
    setQueueSnapshot(fn: () => Promise<QueueSnapshot>) {
      queueSnapshot = fn;
    },
  };

  // The /metrics route awaits this before rendering: queue gauges are read at scrape time.
  const collectQueue = async (): Promise<void> => {
    if (!queueSnapshot) return;
    const s = await queueSnapshot();
    m.queueJobs.reset();
    for (const state of COUNTED_STATES) for (const kind of KNOWN_JOB_KINDS) m.queueJobs.set({ state, kind }, 0);
    for (const row of s.byStateKind) m.queueJobs.set({ state: row.state, kind: row.kind }, row.count);
    m.queueDoneEstimate.set(s.doneEstimate);
    m.queueOldestPendingAge.set(s.oldestPendingAgeSeconds);
  };
  // Series that alerts use with rate()/increase() exist at 0 from the start: a counter that appears
  // already at 1 would hide its first event from increase() (the first dead job would not alert).
  for (const outcome of WEBHOOK_OUTCOMES) m.webhookRequests.inc({ outcome }, 0);
  for (const kind of KNOWN_JOB_KINDS) {
    for (const c of [m.jobsEnqueued, m.jobsStarted, m.jobsSucceeded, m.jobsDiscarded, m.jobsRetried, m.jobsRescheduled, m.jobsDead]) c.inc({ kind }, 0);
  }
  for (const scope of ["chat", "group", "global", "hold"]) m.sendLimitDeferrals.inc({ scope }, 0);
  return { ...m, collectQueue };
}
export type Metrics = ReturnType<typeof createMetrics>;
