import type { Logger } from "../log";
import type { InitDataReplayStore, JobStore } from "../store/types";

/** Telegram keeps undelivered updates for 24 h: the dedupe window must never be shorter. */
export const MIN_RETENTION_MS = 24 * 60 * 60 * 1000;

/** The cut-off before which finished (done, discarded) jobs may be deleted. Pure. */
export function retentionCutoff(now: number, retentionDays: number): number {
  return now - Math.max(MIN_RETENTION_MS, retentionDays * MIN_RETENTION_MS);
}

/**
 * Prunes finished jobs past the retention window, and expired initData replay records, 30 s after
 * start, then every 10 minutes. Returns stop.
 */
export function startRetention(deps: {
  jobs: Pick<JobStore, "prune">;
  initDataReplays: Pick<InitDataReplayStore, "prune">;
  retentionDays: number;
  clock: () => number;
  log: Logger;
}): () => void {
  const run = () => {
    void deps.jobs
      .prune(retentionCutoff(deps.clock(), deps.retentionDays))
      .then((n) => n > 0 && deps.log.info({ pruned: n }, "pruned finished jobs past the retention window"))
      .catch((err) => deps.log.error({ err }, "pruning finished jobs failed; will try again"));
    void deps.initDataReplays
      .prune(deps.clock())
      .then((n) => n > 0 && deps.log.debug({ pruned: n }, "pruned expired initData replay records"))
      .catch((err) => deps.log.error({ err }, "pruning initData replay records failed; will try again"));
  };
  const first = setTimeout(run, 30_000);
  const timer = setInterval(run, 10 * 60_000);
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
