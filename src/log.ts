import pino, { type Logger } from "pino";

export type { Logger };

export interface LogOptions {
  level: string;
  /** Secret values to scrub from every line, whatever field or message they end up in. */
  secrets: string[];
  /** Where lines go; defaults to stdout. Tests pass a collecting stream. */
  destination?: pino.DestinationStream;
}

const REDACTED = "[REDACTED]";

/** Replaces every occurrence of each secret in a serialised log line. Pure, tested alone. */
export function scrubSecrets(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const s of secrets) {
    if (s && out.includes(s)) out = out.split(s).join(REDACTED);
  }
  return out;
}

/** Text with every secret replaced: for log lines and for any error text that is stored or answered. */
export type Scrub = (text: string) => string;

/**
 * The one scrubber of the process, over the secrets config.secretsOf lists: the logger runs every
 * line through it, and so does every error text before it is stored (jobs.last_error, the
 * errors history, audit_log.result) or answered (a 502's message). The Bot API may echo its
 * request, token and secret_token included, in an error description.
 */
export function createScrubber(secrets: readonly string[]): Scrub {
  // Longest first: a secret that contains another is replaced whole.
  const sorted = [...secrets].sort((a, b) => b.length - a.length);
  return (text) => scrubSecrets(text, sorted);
}

/**
 * pino with two layers of protection: known secret-bearing fields are redacted by path, and the
 * final line is scrubbed of every configured secret value (a token inside an error message or a
 * URL would slip past path redaction).
 */
export function createLogger(opts: LogOptions): Logger {
  const scrub = createScrubber(opts.secrets);
  return pino(
    {
      level: opts.level,
      base: { service: "tgwh" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          "token",
          "botToken",
          "secret",
          "webhookSecret",
          "sessionSecret",
          "redisUrl",
          "databaseUrl",
          "authorization",
          "headers.authorization",
          'headers["x-telegram-bot-api-secret-token"]',
          "req.headers.authorization",
          'req.headers["x-telegram-bot-api-secret-token"]',
        ],
        censor: REDACTED,
      },
      hooks: { streamWrite: scrub },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
