import type { Bot } from "grammy";
import { randomBytes } from "node:crypto";
import { secretsOf, type Config } from "./config";
import { createIngressLoad, type IngressLoad } from "./telegram/ingress-load";
import { createScrubber, type Logger, type Scrub } from "./log";
import { createMetrics, type Metrics } from "./metrics";
import { createWorker, type Worker } from "./queue/worker";
import { openStore, type OpenStoreOptions } from "./store/open";
import type { Store } from "./store/types";
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
  /** Every SQL statement of the service runs behind this (store/types.ts). */
  store: Store;
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

/** Counts every newly stored job by kind, whoever inserted it (webhook, notifications, sign-ins). */
function countInserted(store: Store, metrics: Metrics): Store {
  const { jobs } = store;
  return {
    ...store,
    jobs: {
      ...jobs,
      async insert(batch) {
        const results = await jobs.insert(batch);
        results.forEach((r, i) => r.inserted && metrics.jobsEnqueued.inc({ kind: batch[i]!.kind }));
        return results;
      },
    },
  };
}

/** Outbound Bot API calls time out well inside the job lease, so a lease never expires mid-call. */
export const botApiTimeoutSeconds = (leaseSeconds: number) => Math.max(1, Math.min(30, Math.floor(leaseSeconds / 2)));

export interface AppContextOptions {
  /**
   * SQLite: WAL checkpoints on their own thread and connection, so a COMMIT on the main thread
   * no longer stops for one. For `tgwh serve`; ctx.store.close() stops the thread first.
   */
  checkpointThread?: boolean;
}

/** Builds the whole service on the configured store (migrated). Nothing listens or runs until serve starts it. */
export async function createAppContext(cfg: Config, log: Logger, clock: () => number = Date.now, options: AppContextOptions = {}): Promise<AppContext> {
  const metrics = createMetrics({ version: VERSION, commit: COMMIT });
  const store = countInserted(await openStore(cfg, storeEvents(log, metrics, clock, options)), metrics);
  metrics.setQueueSnapshot(() => store.jobs.stats());
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
    jobs: store.jobs,
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
        if (outcome === "succeeded" || outcome === "discarded") {
          (outcome === "succeeded" ? metrics.jobsSucceeded : metrics.jobsDiscarded).inc({ kind });
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
    cfg, log, store, metrics, limits, worker, clock, owner, instance, botRef, ingress, scrub,
    acceptedSecrets: () => [cfg.webhookSecret, cfg.webhookSecretOld].filter((s): s is string => !!s),
  };
}

/** How the app opens the store: migrated, with its commit and checkpoint figures in metrics and logs. */
function storeEvents(log: Logger, metrics: Metrics, clock: () => number, options: AppContextOptions): OpenStoreOptions {
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

/**
 * Starts the worker once the bot's identity is known. getMe comes from the database cache when
 * Telegram is unreachable; without a cache it is retried in the background while the webhook
 * keeps storing updates, so nothing is lost while Telegram's API is down.
 */
export async function startWorker(ctx: AppContext, apiRoot: string, token: string, stopped: () => boolean): Promise<void> {
  const released = await ctx.store.jobs.releaseOwnPrevious(`${ctx.instance}/`, ctx.owner);
  if (released > 0) ctx.log.warn({ released }, "took back jobs left running by this instance's previous process");
  const timeoutSeconds = botApiTimeoutSeconds(ctx.cfg.leaseSeconds);
  let delay = 1000;
  while (!stopped()) {
    try {
      const info = await loadBotInfo(ctx.store.settings, token, apiRoot, timeoutSeconds);
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
