import type { Elysia } from "elysia";
import { randomBytes } from "node:crypto";
import { createAdminRoutes } from "./admin/routes";
import { createAuthRoutes } from "./auth/routes";
import { secretsOf, type Config } from "./config";
import { checkReadiness } from "./health";
import { createHttpApp } from "./http";
import { createLimits, type Limits } from "./limits/create-limits";
import { botNamespace } from "./limits/keys";
import { createScrubber, type Logger } from "./log";
import { childrenBy, createMetrics, type Metrics } from "./metrics";
import { createOperations } from "./operations";
import { webhookDeps } from "./operations/telegram-webhook";
import { botApiTimeoutSeconds, startProcessing } from "./processing";
import { startRetention } from "./queue/retention";
import { createSlotBudget, slotBudgetPolicy } from "./queue/slot-budget";
import { createWorker, type WorkerEvents } from "./queue/worker";
import { openStore, type OpenStoreOptions } from "./store/open";
import type { Store } from "./store/types";
import { createIngressLoad } from "./telegram/ingress-load";
import { createWebhookHandler } from "./telegram/webhook";
import { COMMIT, VERSION } from "./version";

/** /readyz counts the worker stuck when its last claim round is older than this. */
const WORKER_STALE_AFTER_MS = 15_000;

/**
 * The service, wired: the one place that builds every part and hands each only what it uses.
 * Nothing listens or runs until start(); serve.ts puts `http` and `handleWebhook` on a socket.
 */
export interface Service {
  /** The configured store, migrated (tests read and arrange rows through it). */
  store: Store;
  /** The Elysia app: webhook, health, metrics, auth, admin (tests call http.handle directly). */
  http: ReturnType<typeof createHttpApp>;
  /** The ingress handler alone, for Bun.serve's route table (the hot path skips Elysia). */
  handleWebhook: (req: Request) => Promise<Response>;
  /** Redis link, retention timer, then the worker (in the background: it waits for getMe). */
  start(): void;
  /** Worker first (finishing or handing back its jobs), then limits, then the store (durable). */
  stop(graceMs: number): Promise<{ finished: number; released: number }>;
}

export interface ServiceOptions {
  clock?: () => number;
  /**
   * SQLite: WAL checkpoints on their own thread and connection, so a COMMIT on the main thread
   * does not wait for one. For `tgwh serve`; store.close() stops the thread first.
   */
  checkpointThread?: boolean;
}

/** Builds the whole service on the configured store (migrated). `cfg.botToken` must be set (checkServeConfig). */
export async function createService(cfg: Config, log: Logger, options: ServiceOptions = {}): Promise<Service> {
  const clock = options.clock ?? Date.now;
  const metrics = createMetrics({ version: VERSION, commit: COMMIT });
  const store = countingInserts(await openStore(cfg, storeEvents(log, metrics, clock, options)), metrics);
  metrics.setQueueSnapshot(() => store.jobs.stats());
  metrics.gatewayInfo.set({ gateway: cfg.instanceId, store: store.engine }, 1);
  const limits: Limits = createLimits(
    { redisUrl: cfg.redisUrl, instanceId: cfg.instanceId, sendPerSecond: cfg.sendPerSecond, authRatePerIp: cfg.authRatePerIp, authRatePerUser: cfg.authRatePerUser, namespace: botNamespace(cfg.botToken), sendTimeoutMs: botApiTimeoutSeconds(cfg.leaseSeconds) * 1000 + 1000 },
    { registry: metrics.registry, log, clock },
  );
  const ingress = createIngressLoad();
  // Every configured secret, out of any error text that is stored (job errors, audit rows) or answered.
  const scrub = createScrubber(secretsOf(cfg));
  const owner = `${cfg.instanceId}/${process.pid}-${randomBytes(3).toString("hex")}`;
  // Built now so the webhook can wake it; it runs once startProcessing has the bot (processing.ts).
  const worker = createWorker({
    jobs: store.jobs,
    concurrency: cfg.workerConcurrency,
    budget: createSlotBudget(slotBudgetPolicy(cfg.workerConcurrency), ingress.saturated),
    scrub,
    leaseMs: cfg.leaseSeconds * 1000,
    owner,
    log: log.child({ component: "worker" }),
    logFields: (job) => (job.kind === "telegram.update" ? { update_id: job.seq } : {}),
    clock,
    events: workerMetricEvents(metrics, clock),
  });
  const wakeWorker = worker.wake;

  const handleWebhook = createWebhookHandler({
    acceptedSecrets: [cfg.webhookSecret, cfg.webhookSecretOld].filter((s): s is string => !!s),
    enqueue: store.jobs.insert,
    onStored: wakeWorker,
    log: log.child({ component: "webhook" }),
    metrics,
    maxAttempts: cfg.updateMaxAttempts,
    clock,
    load: ingress,
  });
  const telegram = webhookDeps(cfg);
  const operations = createOperations({ store, telegram, log, scrub, clock, wakeWorker });
  const modules: Elysia<any, any, any, any, any, any, any>[] = [
    // /auth/telegram/*, /auth/me, /app
    await createAuthRoutes({ cfg, store, limits: { ip: limits.authIp, user: limits.authUser }, metrics, log, clock, wakeWorker }),
    // /admin/* (RBAC in admin/rbac.ts), /admin/docs, /internal/notifications
    createAdminRoutes({
      operations,
      jobs: store.jobs,
      audit: store.audit,
      workerStatus: worker.status,
      webhook: { telegram, secretConfigured: cfg.webhookSecret !== null, secretRotationActive: cfg.webhookSecretOld !== null },
    }),
  ];
  const readiness = async () => {
    const checks = await checkReadiness(store.health, worker.status(), WORKER_STALE_AFTER_MS, clock());
    // Always ok: without Redis sending goes on with conservative local limits (limits/redis-link.ts).
    const shared = limits.readiness();
    return shared ? [...checks, shared] : checks;
  };
  const http = createHttpApp({ log, metrics, readiness, handleWebhook, modules });

  let stopRetention: (() => void) | null = null;
  let stopping = false;
  return {
    store,
    http,
    handleWebhook,
    start() {
      limits.start();
      stopRetention = startRetention({ jobs: store.jobs, initDataReplays: store.initDataReplays, retentionDays: cfg.retentionDays, clock, log });
      startProcessing({
        worker,
        jobs: store.jobs,
        settings: store.settings,
        bot: { token: cfg.botToken!, apiRoot: cfg.telegramApi, publicUrl: cfg.publicUrl },
        sendLimiter: limits.send,
        leaseSeconds: cfg.leaseSeconds,
        owner,
        instance: cfg.instanceId,
        stopping: () => stopping,
        metrics,
        log,
      }).catch((err) => log.error({ err }, "the worker could not start; updates are still stored"));
    },
    async stop(graceMs) {
      stopping = true;
      stopRetention?.();
      const res = await worker.stop(graceMs);
      metrics.workerUp.set(0);
      await limits.stop();
      await store.close(); // makes every queued write durable first
      return res;
    },
  };
}

/** The worker's events as metrics: what each job outcome counts. */
function workerMetricEvents(metrics: Metrics, clock: () => number): WorkerEvents {
  const started = childrenBy(metrics.jobsStarted, "kind");
  const succeeded = childrenBy(metrics.jobsSucceeded, "kind");
  const discarded = childrenBy(metrics.jobsDiscarded, "kind");
  const retried = childrenBy(metrics.jobsRetried, "kind");
  const rescheduled = childrenBy(metrics.jobsRescheduled, "kind");
  const dead = childrenBy(metrics.jobsDead, "kind");
  const processing = childrenBy(metrics.jobProcessingSeconds, "kind");
  return {
    started: (job) => started(job.kind).inc(),
    finished: (job, outcome) => {
      const kind = job.kind;
      if (outcome === "succeeded" || outcome === "discarded") {
        (outcome === "succeeded" ? succeeded : discarded)(kind).inc();
        processing(kind).observe(Math.max(0, (clock() - job.createdAt) / 1000));
      } else if (outcome === "retried") retried(kind).inc();
      else if (outcome === "rescheduled") rescheduled(kind).inc();
      else dead(kind).inc();
    },
    leasesExpired: (count, _dead, expired) => {
      metrics.leasesExpired.inc(count);
      for (const e of expired) if (e.state === "dead") dead(e.kind).inc();
    },
  };
}

/** The store, counting every newly stored job by kind, whoever inserted it (webhook, notifications, sign-ins). */
function countingInserts(store: Store, metrics: Pick<Metrics, "jobsEnqueued">): Store {
  const { jobs } = store;
  const enqueued = childrenBy(metrics.jobsEnqueued, "kind");
  return {
    ...store,
    jobs: {
      ...jobs,
      async insert(batch) {
        const results = await jobs.insert(batch);
        for (let i = 0; i < results.length; i++) if (results[i]!.inserted) enqueued(batch[i]!.kind).inc();
        return results;
      },
    },
  };
}

/** How the service opens the store: migrated, with its commit and checkpoint figures in metrics and logs. */
function storeEvents(log: Logger, metrics: Metrics, clock: () => number, options: ServiceOptions): OpenStoreOptions {
  return {
    migrate: true,
    clock,
    checkpointThread: options.checkpointThread ? checkpointEvents(log, metrics) : false,
    onCommit: (ops, seconds) => {
      metrics.dbCommits.inc();
      metrics.dbCommitOps.inc(ops);
      metrics.dbCommitSeconds.observe(seconds);
    },
    onCommitFailure: (err, ops) => {
      metrics.dbCommitFailures.inc();
      log.error({ err, ops }, "database commit failed; nothing in this batch was acknowledged (disk full, read-only or locked?)");
    },
  };
}

function checkpointEvents(log: Logger, metrics: Metrics) {
  const clog = log.child({ component: "checkpoint" });
  return {
    onReady: () => {
      metrics.dbCheckpointThreadUp.set(1);
      clog.debug("checkpoint thread running");
    },
    onCheckpoint: () => metrics.dbCheckpoints.inc(),
    onError: (err: Error) => {
      metrics.dbCheckpointFailures.inc();
      clog.error({ err }, "WAL checkpoint failed; retrying every second (disk full or read-only?)");
    },
    onDeath: (err: Error) => {
      metrics.dbCheckpointThreadUp.set(0);
      clog.error({ err }, "checkpoint thread stopped; the main connection checkpoints the WAL itself again (slower commits)");
    },
  };
}
