import pino, { type Logger } from "pino";
import { createTurnBatchedStream } from "./log-stream";

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
    opts.destination ?? createTurnBatchedStream(pino.destination({ dest: 1, sync: false })),
  );
}

export type LineLevel = "info" | "warn" | "error";

type PinoSymbol = "streamSym" | "mixinSym" | "formattersSym" | "nestedKeySym" | "msgPrefixSym" | "needsMetadataGsym" | "lsCacheSym" | "timeSym" | "chindingsSym" | "messageKeySym" | "endSym" | "hooksSym";
const sym = pino.symbols as unknown as Record<PinoSymbol, symbol>;

/**
 * A hot-path log line serialised by hand, byte for byte what `log[level](fields, msg)` prints:
 * pino's own level prefix, time function, bindings (`log`'s chindings), then `fields` (a ready
 * `,"key":value` fragment, in the order the object would have), the message and pino's line end,
 * through the logger's streamWrite hook (the scrubber) to the same stream. pino spends most of a
 * line's cost walking the object and its redaction and tracing machinery; a line whose fields
 * are known needs none of it. `fields` must hold no redacted key (token, secret, …: see
 * createLogger) and no undefined value. A logger with a mixin, a log formatter, a nested key, a message
 * prefix or a metadata-reading stream (multistream) gets the line from pino itself, from the parsed fields.
 * test/unit/log-line.test.ts checks both paths against pino's own output.
 */
export function createLineWriter(log: Logger, level: LineLevel, msg: string): (fields: string) => void {
  const l = log as unknown as Record<symbol, any>;
  const num = log.levels.values[level]!;
  const stream = l[sym.streamSym];
  const plain =
    !l[sym.mixinSym] && !l[sym.formattersSym]?.log && !l[sym.nestedKeySym] && !l[sym.msgPrefixSym] && stream?.[sym.needsMetadataGsym] !== true && typeof stream?.write === "function";
  if (!plain) return (fields) => log[level](JSON.parse(`{${fields.slice(1)}}`), msg);
  const head = l[sym.lsCacheSym][num] as string;
  const time = l[sym.timeSym] as () => string;
  const chindings = l[sym.chindingsSym] as string;
  const tail = `,"${l[sym.messageKeySym]}":${JSON.stringify(msg)}${l[sym.endSym]}`;
  const hook = l[sym.hooksSym]?.streamWrite as ((s: string) => string) | undefined;
  return (fields) => {
    if (log.levelVal > num) return;
    const line = head + time() + chindings + fields + tail;
    stream.write(hook ? hook(line) : line);
  };
}

/** A string as a JSON value, exactly as pino prints it (its asString falls back to JSON.stringify). */
export const jsonString = (s: string | null): string => JSON.stringify(s);

/** A number as a JSON value, as pino prints it (non-finite numbers become null). */
export const jsonNumber = (n: number): string => (Number.isFinite(n) ? String(n) : "null");

/**
 * An object's fields as a `,"key":value` fragment, as pino prints a child's bindings or a line's
 * fields (undefined values left out). For plain values: strings, numbers, booleans, null.
 */
export function jsonFields(fields: Record<string, unknown>): string {
  let out = "";
  for (const key in fields) {
    const v = fields[key];
    if (v === undefined) continue;
    out += `,${JSON.stringify(key)}:${typeof v === "number" ? jsonNumber(v) : JSON.stringify(v)}`;
  }
  return out;
}
