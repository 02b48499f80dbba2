import type { Logger, Scrub } from "./log";
import type { Metrics } from "./metrics";
import type { SendLimiter } from "./limits/send-limiter";
import { createWorker, type Worker, type WorkerEvents, type WorkerStatus } from "./queue/worker";
import type { JobStore, SettingStore } from "./store/types";
import { createOutboundTransformer } from "./telegram/api";
import { createBot } from "./telegram/bot";
import { loadBotInfo } from "./telegram/bot-info";
import { createTelegramJobHandlers } from "./telegram/jobs";

/** Outbound Bot API calls time out well inside the job lease, so a lease never expires mid-call. */
export const botApiTimeoutSeconds = (leaseSeconds: number) => Math.max(1, Math.min(30, Math.floor(leaseSeconds / 2)));

const GET_ME_RETRY_MAX_MS = 30_000;

export interface ProcessingDeps {
  jobs: Pick<JobStore, "claim" | "finish" | "nextWakeAt" | "releaseOwnPrevious">;
  /** Where getMe's answer is cached (telegram/bot-info.ts). */
  settings: Pick<SettingStore, "get" | "set">;
  bot: { token: string; apiRoot: string; publicUrl: string | null };
  sendLimiter: SendLimiter;
  concurrency: number;
  leaseSeconds: number;
  /** This process's lease owner name, and the instance prefix its earlier processes shared. */
  owner: string;
  instance: string;
  /** True while the webhook is saturated (telegram/ingress-load.ts): the worker yields slots. */
  yieldToIngress: () => boolean;
  /** Takes every configured secret out of the error text a job keeps (a Bot API error may echo one). */
  scrub: Scrub;
  metrics: Metrics;
  log: Logger;
  clock: () => number;
}

/** The worker side of the service, which may start after the HTTP side (see start). */
export interface Processing {
  /**
   * Builds the bot from its identity (getMe, or the copy cached in the store), then starts the
   * worker with the bot's job handlers. getMe is retried with backoff until it answers or stop()
   * is called: while Telegram's API is down and nothing is cached, the webhook keeps storing
   * updates and nothing is lost. Resolves once the worker runs, or when stopped first.
   */
  start(): Promise<void>;
  /** New jobs are committed: the worker looks now. Before it runs, its first round finds them. */
  wake(): void;
  status(): WorkerStatus;
  /** Stops claiming, waits up to graceMs for running jobs, hands the rest back to the queue. */
  stop(graceMs: number): Promise<{ finished: number; released: number }>;
}

const NOT_STARTED: WorkerStatus = { running: false, inFlight: 0, lastRoundAt: null, lastError: null };

export function createProcessing(deps: ProcessingDeps): Processing {
  const log = deps.log.child({ component: "worker" });
  const timeoutSeconds = botApiTimeoutSeconds(deps.leaseSeconds);
  let worker: Worker | null = null;
  let stopped = false;

  async function buildBot() {
    for (let delay = 1000; !stopped; delay = Math.min(delay * 2, GET_ME_RETRY_MAX_MS)) {
      try {
        const info = await loadBotInfo(deps.settings, deps.bot.token, deps.bot.apiRoot, timeoutSeconds);
        const transformer = createOutboundTransformer({ limiter: deps.sendLimiter, metrics: deps.metrics, log: deps.log });
        return { info, bot: createBot({ ...deps.bot, botInfo: info, timeoutSeconds, transformer }) };
      } catch (err) {
        log.warn({ err: (err as Error).message, retryInMs: delay }, "getMe failed and no cached bot info; updates are still stored, retrying");
        await Bun.sleep(delay);
      }
    }
    return null;
  }

  return {
    async start() {
      const released = await deps.jobs.releaseOwnPrevious(`${deps.instance}/`, deps.owner);
      if (released > 0) log.warn({ released }, "took back jobs left running by this instance's previous process");
      const built = await buildBot();
      if (!built || stopped) return;
      worker = createWorker({
        jobs: deps.jobs,
        handlers: createTelegramJobHandlers(built.bot),
        concurrency: deps.concurrency,
        yieldToIngress: deps.yieldToIngress,
        scrub: deps.scrub,
        leaseMs: deps.leaseSeconds * 1000,
        owner: deps.owner,
        log,
        logFields: (job) => (job.kind === "telegram.update" ? { update_id: job.seq } : {}),
        clock: deps.clock,
        events: workerMetrics(deps.metrics, deps.clock),
      });
      log.info({ bot: built.info.username, botId: built.info.id }, "bot ready; worker starting");
      worker.start();
      deps.metrics.workerUp.set(1);
    },
    wake: () => worker?.wake(),
    status: () => worker?.status() ?? NOT_STARTED,
    async stop(graceMs) {
      stopped = true;
      if (!worker) return { finished: 0, released: 0 };
      const res = await worker.stop(graceMs);
      deps.metrics.workerUp.set(0);
      return res;
    },
  };
}

/** The worker's events as metrics: what each job outcome counts. */
export function workerMetrics(metrics: Metrics, clock: () => number): WorkerEvents {
  return {
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
  };
}
