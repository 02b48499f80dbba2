/**
 * How an operation says no. Each failure names what kind of "no" it is; the admin API turns the
 * kind into a status (http.ts) and the CLI into an exit code (cli/command.ts), each in one place.
 * Messages are for the person who asked: they say what is wrong and what to do, never a secret.
 */
export type OperationFailure =
  /** The request itself is wrong (a bad name, an update type Telegram does not know). */
  | "invalid"
  /** What it names does not exist (a job id, an account name). */
  | "not_found"
  /** It exists but is in a state that does not allow this (a job that is not dead, a taken name). */
  | "conflict"
  /** Telegram refused the call or could not be reached. */
  | "upstream";

export class OperationError extends Error {
  constructor(
    readonly failure: OperationFailure,
    message: string,
  ) {
    super(message);
    this.name = "OperationError";
  }
}

/** Telegram answered with an error or could not be reached. The message never holds a secret. */
export class TelegramCallError extends OperationError {
  constructor(
    message: string,
    /** Telegram's error_code, or null when the call did not reach it. */
    readonly code: number | null,
  ) {
    super("upstream", message);
    this.name = "TelegramCallError";
  }
}
