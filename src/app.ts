import type { Bot } from "grammy";
import { randomBytes } from "node:crypto";
import { secretsOf, type Config } from "./config";
import { withCheckpointThread } from "./db/checkpointer";
import { openDb, type Db } from "./db/client";
import { createInitDataReplays } from "./db/init-data-replays";
import { createSettings, type Settings } from "./db/settings";
import { createWriter, type Writer } from "./db/writer";
import { takeOverWalSync } from "./db/wal-sync";
import { createIngressLoad, type IngressLoad } from "./telegram/ingress-load";
import { createScrubber, type Logger, type Scrub } from "./log";
import { createMetrics, type Metrics } from "./metrics";
import { createPruner, retentionCutoff } from "./queue/retention";
import { createQueueStats, type QueueStats } from "./queue/stats";
import { createJobStore, type JobStore } from "./queue/store";
import { createWorker, type Worker } from "./queue/worker";
import { createOutboundTransformer } from "./telegram/api";
import { createBot } from "./telegram/bot";
import { loadBotInfo } from "./telegram/bot-info";
import { createTelegramJobHandlers } from "./telegram/jobs";
import { createLimits, type Limits } from "./limits/create-limits";
import { botNamespace } from "./limits/keys";
import { COMMIT, VERSION } from "./version";

/** Everything a request handler, the worker or a CLI command may need, passed explicitly. */
export interface AppContext {
  cfg: Config;
  log: Logger;
  db: Db;
  writer: Writer;
  store: JobStore;
  stats: QueueStats;
  settings: Settings;
  metrics: Metrics;
  /** Telegram's send limits and the auth limits; shared through Redis with TGWH_REDIS_URL. */
  limits: Limits;
  worker: Worker;
  /** The grammY bot, set by startWorker once getMe is known (null before). */
  botRef: { current: Bot | null };
  /** Secrets the webhook accepts now: current, plus the old one during a rotation. */
  acceptedSecrets(): string[];
  clock: () => number;
  /** Identifies this process's leases: `${instance}/${pid}-${random}`. */
  owner: string;
  instance: string;
  /** Webhook requests in flight; the worker yields slots to a burst (telegram/ingress-load.ts). */
  ingress: IngressLoad;
  /** Removes every configured secret from a text that is stored or answered (log.ts). */
  scrub: Scrub;
}

/** Counts every newly stored job by kind, whoever enqueued it (webhook, notifications, CLI). */
function countEnqueued(store: JobStore, metrics: Metrics): JobStore {
  return {
    ...store,
    async enqueue(jobs) {
      const results = await store.enqueue(jobs);
      results.forEach((r, i) => r.inserted && metrics.jobsEnqueued.inc({ kind: jobs[i]!.kind }));
      return results;
    },
  };
}

/** Outbound Bot API calls time out well inside the job lease, so a lease never expires mid-call. */
export const botApiTimeoutSeconds = (leaseSeconds: number) => Math.max(1, Math.min(30, Math.floor(leaseSeconds / 2)));

export interface AppContextOptions {
  /**
   * WAL checkpoints on their own thread and connection (db/checkpointer.ts), so a COMMIT on the
   * main thread no longer stops for one. For `tgwh serve`; ctx.db.close() stops the thread first.
   */
  checkpointThread?: boolean;
}

/** Builds the whole service on one database file. Nothing listens or runs until startApp. */
export function createAppContext(cfg: Config, log: Logger, clock: () => number = Date.now, options: AppContextOptions = {}): AppContext {
  const metrics = createMetrics({ version: VERSION, commit: COMMIT });
  const opened = openDb({ path: cfg.dbPath, synchronous: cfg.synchronous, busyTimeoutMs: cfg.busyTimeoutMs, migrate: true });
  const checkpoints = options.checkpointThread ? withCheckpointThread(opened, checkpointEvents(cfg, log, metrics)) : null;
  const db = checkpoints?.db ?? opened;
  // FULL: the writer fsyncs the WAL itself, off the event loop (see db/wal-sync.ts).
  const walSync = cfg.synchronous === "FULL" ? takeOverWalSync(db.sqlite, db.path) : null;
  const writer = createWriter(db.sqlite, {
    walSync,
    commitGate: checkpoints?.commitGate,
    onCommit: (ops, seconds) => {
      metrics.dbCommits.inc();
      metrics.dbCommitOps.inc(ops);
      metrics.dbCommitSeconds.observe(seconds);
    },
    onFailure: (err, ops) => {
      metrics.dbCommitFailures.inc();
      log.error({ err, ops }, "database commit failed; nothing in this batch was acknowledged (disk full, read-only or locked?)");
    },
  });
  const store = countEnqueued(createJobStore(db.sqlite, writer, clock), metrics);
  const stats = createQueueStats(db.sqlite, clock);
  metrics.setQueueSnapshot(() => stats.snapshot());
  const settings = createSettings(db.sqlite, clock);
  const instance = cfg.instanceId;
  const limits = createLimits(
    { redisUrl: cfg.redisUrl, instanceId: instance, sendPerSecond: cfg.sendPerSecond, authRatePerIp: cfg.authRatePerIp, authRatePerUser: cfg.authRatePerUser, namespace: botNamespace(cfg.botToken) },
    { registry: metrics.registry, log, clock },
  );
  const owner = `${instance}/${process.pid}-${randomBytes(3).toString("hex")}`;

  const scrub = createScrubber(secretsOf(cfg));
  const botRef: { current: Bot | null } = { current: null };
  const ingress = createIngressLoad();
  const worker = createWorker({
    store,
    handlers: createTelegramJobHandlers(() => {
      if (!botRef.current) throw new Error("bot not initialised yet");
      return botRef.current;
    }),
    concurrency: cfg.workerConcurrency,
    scrub,
    yieldToIngress: () => ingress.saturated(),
    leaseMs: cfg.leaseSeconds * 1000,
    owner,
    log: log.child({ component: "worker" }),
    logFields: (job) => (job.kind === "telegram.update" ? { update_id: job.seq } : {}),
    clock,
    events: {
      started: (job) => metrics.jobsStarted.inc({ kind: job.kind }),
      finished: (job, outcome) => {
        const kind = job.kind;
        if (outcome === "succeeded" || outcome === "failed_permanent") {
          (outcome === "succeeded" ? metrics.jobsSucceeded : metrics.jobsFailedPermanent).inc({ kind });
          metrics.jobProcessingSeconds.observe({ kind }, Math.max(0, (clock() - job.createdAt) / 1000));
        } else if (outcome === "retried") metrics.jobsRetried.inc({ kind });
        else if (outcome === "rescheduled") metrics.jobsRescheduled.inc({ kind });
        else metrics.jobsDead.inc({ kind });
      },
      leasesExpired: (count, _dead, expired) => {
        metrics.leasesExpired.inc(count);
        for (const e of expired) if (e.state === "dead") metrics.jobsDead.inc({ kind: e.kind });
      },
    },
  });

  return {
    cfg, log, db, writer, store, stats, settings, metrics, limits, worker, clock, owner, instance, botRef, ingress, scrub,
    acceptedSecrets: () => [cfg.webhookSecret, cfg.webhookSecretOld].filter((s): s is string => !!s),
  };
}

function checkpointEvents(cfg: Config, log: Logger, metrics: Metrics) {
  const clog = log.child({ component: "checkpoint" });
  return {
    busyTimeoutMs: cfg.busyTimeoutMs,
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

/**
 * Starts the worker once the bot's identity is known. getMe comes from the database cache when
 * Telegram is unreachable; without a cache it is retried in the background while the webhook
 * keeps storing updates, so nothing is lost while Telegram's API is down.
 */
export async function startWorker(ctx: AppContext, apiRoot: string, token: string, stopped: () => boolean): Promise<void> {
  const released = await ctx.store.releaseOwnPrevious(`${ctx.instance}/`, ctx.owner);
  if (released > 0) ctx.log.warn({ released }, "took back jobs left running by this instance's previous process");
  const timeoutSeconds = botApiTimeoutSeconds(ctx.cfg.leaseSeconds);
  let delay = 1000;
  while (!stopped()) {
    try {
      const info = await loadBotInfo(ctx.settings, token, apiRoot, timeoutSeconds);
      const bot = createBot({
        token,
        apiRoot,
        botInfo: info,
        publicUrl: ctx.cfg.publicUrl,
        timeoutSeconds,
        transformer: createOutboundTransformer({ limiter: ctx.limits.send, metrics: ctx.metrics, log: ctx.log }),
      });
      ctx.botRef.current = bot;
      ctx.log.info({ bot: info.username, botId: info.id }, "bot ready; worker starting");
      ctx.worker.start();
      ctx.metrics.workerUp.set(1);
      return;
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message, retryInMs: delay }, "getMe failed and no cached bot info; updates are still stored, retrying");
      await Bun.sleep(delay);
      delay = Math.min(delay * 2, 30_000);
    }
  }
}

/** Prunes done jobs past the retention window, and expired initData replay records, every 10 minutes. */
export function startRetention(ctx: AppContext): () => void {
  const pruner = createPruner(ctx.db.sqlite, ctx.writer);
  const replays = createInitDataReplays(ctx.db.sqlite, ctx.writer);
  const run = () => {
    void pruner
      .prune(retentionCutoff(ctx.clock(), ctx.cfg.retentionDays))
      .then((n) => n > 0 && ctx.log.info({ pruned: n }, "pruned done jobs past the retention window"))
      .catch((err) => ctx.log.error({ err }, "pruning done jobs failed; will try again"));
    void replays
      .prune(ctx.clock())
      .then((n) => n > 0 && ctx.log.debug({ pruned: n }, "pruned expired initData replay records"))
      .catch((err) => ctx.log.error({ err }, "pruning initData replay records failed; will try again"));
  };
  const first = setTimeout(run, 30_000);
  const timer = setInterval(run, 10 * 60_000);
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
