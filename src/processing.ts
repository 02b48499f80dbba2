import type { Logger } from "./log";
import type { Metrics } from "./metrics";
import type { SendLimiter } from "./limits/send-limiter";
import type { Worker } from "./queue/worker";
import type { JobStore, SettingStore } from "./store/types";
import { createOutboundTransformer } from "./telegram/api";
import { createBot } from "./telegram/bot";
import { loadBotInfo } from "./telegram/bot-info";
import { createTelegramJobHandlers } from "./telegram/jobs";

/** Outbound Bot API calls time out well inside the job lease, so a lease never expires mid-call. */
export const botApiTimeoutSeconds = (leaseSeconds: number) => Math.max(1, Math.min(30, Math.floor(leaseSeconds / 2)));

const GET_ME_RETRY_MAX_MS = 30_000;

export interface ProcessingDeps {
  /** Built (and woken by the webhook) from the start; it runs once given the bot's handlers. */
  worker: Pick<Worker, "start">;
  jobs: Pick<JobStore, "releaseOwnPrevious">;
  /** Where getMe's answer is cached (telegram/bot-info.ts). */
  settings: Pick<SettingStore, "get" | "set">;
  bot: { token: string; apiRoot: string; publicUrl: string | null };
  sendLimiter: SendLimiter;
  leaseSeconds: number;
  /** This process's lease owner name, and the instance prefix its earlier processes shared. */
  owner: string;
  instance: string;
  /** True once the service is stopping: stop retrying getMe, start nothing. */
  stopping: () => boolean;
  metrics: Pick<Metrics, "workerUp" | "botApiCalls" | "botApiRetryAfterSeconds" | "sendLimitDeferrals">;
  log: Logger;
}

/**
 * The worker side of `serve`, which may start after the HTTP side: takes back jobs this
 * instance's previous process left running, builds the bot from its identity (getMe, or the copy
 * cached in the store), then starts the worker with the bot's job handlers. getMe is retried with
 * backoff until it answers or the service stops: while Telegram's API is down and nothing is
 * cached, the webhook keeps storing updates and nothing is lost.
 */
export async function startProcessing(deps: ProcessingDeps): Promise<void> {
  const log = deps.log.child({ component: "worker" });
  const released = await deps.jobs.releaseOwnPrevious(`${deps.instance}/`, deps.owner);
  if (released > 0) log.warn({ released }, "took back jobs left running by this instance's previous process");
  const timeoutSeconds = botApiTimeoutSeconds(deps.leaseSeconds);
  for (let delay = 1000; !deps.stopping(); delay = Math.min(delay * 2, GET_ME_RETRY_MAX_MS)) {
    let info;
    try {
      info = await loadBotInfo(deps.settings, deps.bot.token, deps.bot.apiRoot, timeoutSeconds);
    } catch (err) {
      log.warn({ err: (err as Error).message, retryInMs: delay }, "getMe failed and no cached bot info; updates are still stored, retrying");
      await Bun.sleep(delay);
      continue;
    }
    if (deps.stopping()) return;
    const transformer = createOutboundTransformer({ limiter: deps.sendLimiter, metrics: deps.metrics, log: deps.log });
    const bot = createBot({ ...deps.bot, botInfo: info, timeoutSeconds, transformer });
    log.info({ bot: info.username, botId: info.id }, "bot ready; worker starting");
    deps.worker.start(createTelegramJobHandlers(bot));
    deps.metrics.workerUp.set(1);
    return;
  }
}
