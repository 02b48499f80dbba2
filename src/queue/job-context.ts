import { AsyncLocalStorage } from "node:async_hooks";
import type { Logger } from "../log";

/**
 * The log of the job running in this async context, so code deep inside a handler (the Bot API
 * transformer) writes lines that carry the job's id, kind and update_id without threading it by hand.
 * Held as a function: the worker builds a job's child logger only when something logs with it
 * (most jobs log only their outcome, which the worker writes without one).
 */
const jobLog = new AsyncLocalStorage<() => Logger>();

export const runWithJobLog = <T>(log: Logger | (() => Logger), fn: () => T): T => jobLog.run(typeof log === "function" ? log : () => log, fn);

/** The running job's logger, or undefined outside a job (CLI calls, startup getMe). */
export const currentJobLog = (): Logger | undefined => jobLog.getStore()?.();
