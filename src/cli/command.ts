import { ConfigError } from "../config";
import { OperationError, type OperationFailure } from "../operations/errors";

/** One subcommand of the tgwh binary: one row of the table in main.ts. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], env: Record<string, string | undefined>): Promise<number>;
}

/** A wrong invocation: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * What each kind of refused operation (operations/errors.ts) exits with: the caller's input → 2,
 * as a usage error; the world said no (no such job, a taken name, Telegram refused) → 1. The
 * admin API's statuses for the same failures are in http.ts.
 */
export const EXIT_OF_FAILURE: Readonly<Record<OperationFailure, number>> = { invalid: EXIT.usage, not_found: EXIT.failure, conflict: EXIT.failure, upstream: EXIT.failure };

/** Prints an error the way every command does and returns its exit code. */
export function reportCliError(err: unknown, usage?: string): number {
  if (err instanceof ConfigError) {
    process.stderr.write(`tgwh: configuration error: ${err.message}\n`);
    return EXIT.usage;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`tgwh: ${err.message}\n${usage ? `usage: ${usage}\n` : ""}`);
    return EXIT.usage;
  }
  if (err instanceof OperationError) {
    const code = EXIT_OF_FAILURE[err.failure];
    process.stderr.write(`tgwh: ${err.message}\n${code === EXIT.usage && usage ? `usage: ${usage}\n` : ""}`);
    return code;
  }
  process.stderr.write(`tgwh: ${(err as Error)?.message ?? String(err)}\n`);
  return EXIT.failure;
}

export const wantsHelp = (args: string[]) => args.includes("--help") || args.includes("-h");
