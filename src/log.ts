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

/**
 * pino with two layers of protection: known secret-bearing fields are redacted by path, and the
 * final line is scrubbed of every configured secret value (a token inside an error message or a
 * URL would slip past path redaction).
 */
export function createLogger(opts: LogOptions): Logger {
  const secrets = [...opts.secrets].sort((a, b) => b.length - a.length);
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
          "authorization",
          "headers.authorization",
          'headers["x-telegram-bot-api-secret-token"]',
          "req.headers.authorization",
          'req.headers["x-telegram-bot-api-secret-token"]',
        ],
        censor: REDACTED,
      },
      hooks: { streamWrite: (line) => scrubSecrets(line, secrets) },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
