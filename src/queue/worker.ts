import { createLineWriter, jsonFields, jsonNumber, type Logger } from "../log";
import { retryDelayMs, type BackoffPolicy, DEFAULT_BACKOFF } from "./backoff";
import type { Job } from "../store/rows";
import type { ClaimResult, ExpiredLease, Finish, JobStore } from "../store/types";
import { errorMessage, PermanentJobError, RescheduleError } from "./errors";
import { runWithJobLog } from "./job-context";
import type { SlotBudget } from "./slot-budget";

export interface JobContext {
  log: Logger;
}

/** Runs one job. Throw RescheduleError / PermanentJobError to steer the outcome; anything else retries. */
export type JobHandler = (job: Job, ctx: JobContext) => Promise<void>;

export type JobOutcome = "succeeded" | "discarded" | "rescheduled" | "retried" | "dead";

export interface WorkerEvents {
  started?(job: Job): void;
  finished?(job: Job, outcome: JobOutcome, seconds: number): void;
  /** `expired` lists each job (id, kind, and whether it went back to pending or to dead). */
  leasesExpired?(count: number, dead: number, expired: ExpiredLease[]): void;
}

export interface WorkerDeps {
  /** The only part of the store the worker touches: claim, finish, and when to look again. */
  jobs: Pick<JobStore, "claim" | "finish" | "nextWakeAt">;
  concurrency: number;
  /**
   * The slots it may fill now (slot-budget.ts): few to none while the webhook is saturated, so acks
   * (the durable part) keep the CPU during a burst and the stored backlog drains right after.
   * Without one, all `concurrency` slots.
   */
  budget?: SlotBudget;
  leaseMs: number;
  owner: string;
  log: Logger;
  events?: WorkerEvents;
  backoff?: BackoffPolicy;
  /** Extra fields for every log line about a job (e.g. the update_id of a Telegram update). */
  logFields?: (job: Pick<Job, "kind" | "seq">) => Record<string, unknown>;
  /** Longest sleep between claim rounds when nothing wakes the worker. */
  pollMs?: number;
  clock?: () => number;
  /** Removes secrets from an error text before it is stored (last_error, errors) or shown (status). */
  scrub?: (text: string) => string;
}

export interface WorkerStatus {
  running: boolean;
  inFlight: number;
  lastRoundAt: number | null;
  lastError: string | null;
}

export type JobHandlers = Readonly<Record<string, JobHandler>>;

/**
 * Exists from the start, runs once started: until then wake() does nothing (the first claim round
 * finds what was stored meanwhile), status() says it is not running, and stop() has nothing to stop.
 */
export interface Worker {
  /** Claims and runs jobs with these handlers, one per job kind (a kind without one is discarded). */
  start(handlers: JobHandlers): void;
  /** Something became claimable (a commit of new jobs): look now instead of at the next poll. */
  wake(): void;
  /** Stops claiming, waits up to graceMs for running jobs, then hands the rest back to the queue. */
  stop(graceMs: number): Promise<{ finished: number; released: number }>;
  status(): WorkerStatus;
}

/** Maps what a handler did to how the job row ends. Pure: the policy lives here, tested alone. */
export function decideFinish(job: Job, err: unknown, now: number, backoff: BackoffPolicy, random = Math.random): { finish: Finish; outcome: JobOutcome } {
  if (err === undefined) return { finish: { type: "done", error: null }, outcome: "succeeded" };
  if (err instanceof RescheduleError) {
    return {
      finish: { type: "retry", runAt: now + err.delayMs, error: errorMessage(err), spendAttempt: false },
      outcome: "rescheduled",
    };
  }
  if (err instanceof PermanentJobError) return { finish: { type: "discarded", error: errorMessage(err) }, outcome: "discarded" };
  const message = errorMessage(err);
  if (job.attempts >= job.maxAttempts) return { finish: { type: "dead", error: message }, outcome: "dead" };
  const runAt = now + retryDelayMs(job.attempts, backoff, random);
  return { finish: { type: "retry", runAt, error: message, spendAttempt: true }, outcome: "retried" };
}

export function createWorker(deps: WorkerDeps): Worker {
  const clock = deps.clock ?? Date.now;
  const pollMs = deps.pollMs ?? 1000;
  const backoff = deps.backoff ?? DEFAULT_BACKOFF;
  const scrub = deps.scrub ?? ((text: string) => text);
  const inFlight = new Map<number, { job: Job; done: Promise<void> }>();
  /** Slots taken: jobs whose handler is still running (a job waiting only for its finish to be durable frees its slot). */
  let busy = 0;
  let lastExpiryAt = 0;
  let running = false;
  /** Once stopped, a late start (getMe answering during shutdown) does nothing. */
  let stopped = false;
  let handlers: JobHandlers = {};
  /**
   * Slots promised to claim rounds still in flight. Rounds may overlap: a job that ends queues
   * its finish and at once a claim for its slot, so both go in the same commit instead of the
   * claim waiting for the next one (that wait halves the drain rate).
   */
  let reserved = 0;
  /** A claim is queued and not yet run: it sizes itself when it runs, so no second one is needed. */
  let claimQueued = false;
  /** Claim rounds in flight: stop() waits for them, so jobs they claim are run or handed back, never orphaned. */
  const claimRounds = new Set<Promise<void>>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  /** Bumped whenever the timer is set: a nextWakeAt answer that arrives after a newer decision is dropped. */
  let timerGeneration = 0;
  let lastRoundAt: number | null = null;
  let lastError: string | null = null;
  const jobBindings = (job: Job) => ({ jobId: job.id, kind: job.kind, attempt: job.attempts, ...deps.logFields?.(job) });
  const jobDoneLine = createLineWriter(deps.log, "info", "job done");

  /** When the timer fires (performance.now()), or null when none is set. */
  let timerDueAt: number | null = null;

  function setTimer(delay: number, fromTimer: boolean): void {
    timerGeneration++;
    if (timer) clearTimeout(timer);
    timerDueAt = performance.now() + delay;
    timer = setTimeout(() => {
      timerDueAt = null;
      void pump(fromTimer);
    }, delay);
  }

  /** Sleeps until the next run_at or lease expiry the store knows of, at most pollMs. */
  function schedule(): void {
    if (!running) return;
    const generation = ++timerGeneration;
    deps.jobs.nextWakeAt().then(
      (next) => (next === null ? pollMs : Math.max(5, Math.min(pollMs, next - clock() + 1))),
      () => pollMs,
    ).then((delay) => {
      if (running && generation === timerGeneration) setTimer(delay, true);
    });
  }

  /** One claim round. `fromTimer`: the poll or a due run_at/lease expiry woke it, so expired leases are looked for now. */
  async function pump(fromTimer = false): Promise<void> {
    if (!running || claimQueued) return;
    const slotsNow = () => (deps.budget ? deps.budget.slots(busy + reserved) : deps.concurrency);
    const slots = slotsNow();
    if (slots - busy - reserved <= 0) {
      lastRoundAt = clock(); // busy, not stuck: readiness watches this
      if (slots < deps.concurrency && (timerDueAt === null || timerDueAt - performance.now() > 100)) {
        // Yielding to a burst: look again soon, so the slots come back when it ends even if the
        // running jobs are slow. Every stored update wakes the worker: a timer already due soon stays.
        setTimer(100, false);
      }
      return;
    }
    claimQueued = true;
    let free = 0;
    let sized = false;
    // Read when the claim runs inside the commit: every job that ended before it in this commit
    // has freed its slot by then, so one claim per commit takes them all.
    const limit = () => {
      sized = true;
      claimQueued = false;
      free = running ? Math.max(0, slotsNow() - busy - reserved) : 0;
      deps.budget?.claimed(free);
      reserved += free;
      return free;
    };
    let again = false;
    let roundDone!: () => void;
    const round = new Promise<void>((r) => (roundDone = r));
    claimRounds.add(round);
    try {
      const now = clock();
      // Leases last tens of seconds: looking for expired ones once a second is plenty, and keeps
      // that scan out of the claim rounds that run back to back while draining a backlog.
      const expire = fromTimer || now - lastExpiryAt >= 1000;
      if (expire) lastExpiryAt = now;
      let claimed: ClaimResult;
      try {
        // Claims resolve at COMMIT (a fsync earlier), except while yielding to a burst: then the
        // fsync paces the few slots left, which keeps the worker's share of the CPU small; at
        // COMMIT's pace 4 slots processed ~70 % of a burst's updates as it came and ingest fell by a third.
        const resolveAtCommit = slots === deps.concurrency;
        claimed = await deps.jobs.claim({ owner: deps.owner, leaseMs: deps.leaseMs, limit, now, expireLeases: expire, resolveAtCommit });
      } finally {
        if (!sized) claimQueued = false; // the commit failed before the claim ran
        reserved -= free; // in the same turn as runJob below takes the slots: no other round sees a gap
      }
      const { expired, jobs } = claimed;
      lastRoundAt = clock();
      lastError = null;
      if (expired.length > 0) {
        const dead = expired.filter((e) => e.state === "dead").length;
        deps.events?.leasesExpired?.(expired.length, dead, expired);
        // One line per job (job id and kind on each, like every job line), capped after a big crash.
        for (const e of expired.slice(0, 50)) {
          deps.log.warn({ jobId: e.id, kind: e.kind, ...deps.logFields?.(e), state: e.state }, e.state === "dead" ? "job dead: lease expired with no attempts left" : "job lease expired; returned to the queue");
        }
        if (expired.length > 50) deps.log.warn({ count: expired.length, dead }, "more job leases expired than logged one by one");
      }
      for (const job of jobs) runJob(job);
      if (free > 0 && jobs.length === free) again = true;
    } catch (err) {
      lastError = scrub(errorMessage(err));
      deps.log.error({ err }, "claiming jobs failed; retrying at the next poll");
    } finally {
      claimRounds.delete(round);
      roundDone();
    }
    if (again && running) queueMicrotask(() => void pump());
    else if (claimRounds.size === 0) schedule();
  }

  function runJob(job: Job): void {
    // The job's own logger (its fields on every line) only if the handler or a warning logs:
    // a child logger per job costs more than the job's one outcome line, which is built by hand.
    let jobLog: Logger | undefined;
    const log = () => (jobLog ??= deps.log.child(jobBindings(job)));
    const ctx: JobContext = {
      get log() {
        return log();
      },
    };
    const started = performance.now();
    deps.events?.started?.(job);
    const handler = handlers[job.kind];
    busy++;
    const done = (async () => {
      let err: unknown;
      try {
        if (!handler) throw new PermanentJobError(`no handler for job kind '${job.kind}'`);
        await runWithJobLog(log, () => handler(job, ctx));
      } catch (e) {
        err = e ?? new Error("handler threw an empty value");
      }
      const decided = decideFinish(job, err, clock(), backoff);
      const outcome = decided.outcome;
      // A Bot API error may echo the request, token included: scrubbed before it is stored.
      const finish = decided.finish.error ? { ...decided.finish, error: scrub(decided.finish.error) } : decided.finish;
      const seconds = (performance.now() - started) / 1000;
      const recorded = deps.jobs.finish({ id: job.id, owner: deps.owner, orderKey: job.orderKey, attempts: job.attempts, errors: job.errors }, finish);
      // The slot is free once the outcome is queued: the next claim joins the same commit as this
      // finish (and sees the chain successor it readies), so a slot costs one commit per job, not two.
      busy--;
      if (running) void pump();
      try {
        await recorded;
        deps.events?.finished?.(job, outcome, seconds);
        const rounded = Number(seconds.toFixed(4));
        // What log().info({ outcome, seconds }, "job done") prints, without the child logger.
        if (outcome === "succeeded" && !jobLog) jobDoneLine(`${jsonFields(jobBindings(job))},"outcome":"succeeded","seconds":${jsonNumber(rounded)}`);
        else {
          const line = { outcome, seconds: rounded, error: finish.error ?? undefined };
          if (outcome === "succeeded") log().info(line, "job done");
          else if (outcome === "dead") log().error(line, "job dead: attempts exhausted");
          else log().warn(line, `job ${outcome}`);
        }
      } catch (e) {
        // The lease will expire and the job run again: at-least-once, never lost.
        log().error({ err: e }, "could not record the job's outcome; it will run again after its lease expires");
      }
    })();
    inFlight.set(job.id, { job, done });
    done.finally(() => {
      inFlight.delete(job.id);
    });
  }

  return {
    start(jobHandlers) {
      if (running || stopped) return;
      handlers = jobHandlers;
      running = true;
      void pump();
    },
    wake() {
      if (running) void pump();
    },
    async stop(graceMs) {
      running = false;
      stopped = true;
      timerGeneration++;
      if (timer) clearTimeout(timer);
      // A claim committed but not yet returned would leave its jobs running with nobody on them.
      await Promise.all([...claimRounds]);
      const all = [...inFlight.values()];
      let timeout: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled(all.map((x) => x.done)),
        new Promise<void>((r) => (timeout = setTimeout(r, graceMs))),
      ]);
      clearTimeout(timeout);
      const left = [...inFlight.values()];
      await Promise.allSettled(
        left.map(({ job }) =>
          deps.jobs.finish(
            { id: job.id, owner: deps.owner, orderKey: job.orderKey, attempts: job.attempts, errors: job.errors },
            { type: "retry", runAt: clock(), error: "released at shutdown before it finished", spendAttempt: false },
          ),
        ),
      );
      return { finished: all.length - left.length, released: left.length };
    },
    status: () => ({ running, inFlight: inFlight.size, lastRoundAt, lastError }),
  };
}
