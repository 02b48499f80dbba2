/**
 * How a job handler tells the worker what a failure means. Anything else thrown is treated as
 * transient: retried with backoff until max_attempts, then dead.
 */

/** Run again after delayMs without spending an attempt (a 429's retry_after, a local send limit). */
export class RescheduleError extends Error {
  constructor(
    readonly delayMs: number,
    message: string,
  ) {
    super(message);
    this.name = "RescheduleError";
  }
}

/** Retrying cannot help (403 bot blocked, 400 chat not found): the job ends discarded, with this error kept. */
export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PermanentJobError";
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
