import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

/** A configuration problem: names the variable and what is wrong, never the value. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = "ConfigError";
  }
}

export interface Config {
  botToken: string | null;
  webhookSecret: string | null;
  /** Accepted beside webhookSecret during a rotation window (TGWH_WEBHOOK_SECRET_OLD). */
  webhookSecretOld: string | null;
  /** The SQLite file (TGWH_DB); unused when databaseUrl is set. */
  dbPath: string;
  /** postgres:// URL (TGWH_DATABASE_URL, a secret: it carries the password): PostgreSQL is the store, shared by every gateway. */
  databaseUrl: string | null;
  listen: { hostname: string; port: number };
  telegramApi: string;
  publicUrl: string | null;
  trustedProxies: string[];
  workerConcurrency: number;
  leaseSeconds: number;
  shutdownSeconds: number;
  sendPerSecond: number;
  initDataMaxAge: number;
  sessionSecret: string | null;
  sessionTtl: number;
  loginNotify: boolean;
  logLevel: string;
  dev: boolean;
  synchronous: "FULL" | "NORMAL";
  busyTimeoutMs: number;
  retentionDays: number;
  authRatePerIp: number;
  authRatePerUser: number;
  /** Attempts a Telegram update gets before it is dead (tests lower it to reach dead quickly). */
  updateMaxAttempts: number;
  /** redis:// or rediss:// URL (may carry a password: a secret): send and auth limits shared by all gateways. */
  redisUrl: string | null;
  /** This gateway's name (TGWH_INSTANCE_ID, default hostname:port): lease owners, the gateway set in Redis. */
  instanceId: string;
}

type Env = Record<string, string | undefined>;

const SECRET_RE = /^[A-Za-z0-9_-]{1,256}$/;
/** The longest session lifetime TGWH_SESSION_TTL allows (90 days); session.ts refuses a later exp. */
export const SESSION_TTL_MAX = 90 * 86400;
const TOKEN_RE = /^\d{1,20}:[A-Za-z0-9_-]{20,100}$/;
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/**
 * Reads a secret from NAME, NAME_FILE or the systemd credential `credential`, in that order.
 * Setting more than one source is an error: which one wins would be a guess.
 */
export function readSecret(env: Env, name: string, credential: string): string | null {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  const credDir = env.CREDENTIALS_DIRECTORY;
  const credPath = credDir ? join(credDir, credential) : null;
  const fromCredential = credPath !== null && existsSync(credPath);
  if (direct !== undefined && direct !== "" && file) {
    throw new ConfigError(name, `both ${name} and ${name}_FILE are set; keep one`);
  }
  if (direct !== undefined && direct !== "") return direct.trim();
  if (file) {
    try {
      return readFileSync(file, "utf8").trim();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
      throw new ConfigError(`${name}_FILE`, `cannot read the file (${code}); check the path and its permissions`);
    }
  }
  if (fromCredential && credPath) {
    try {
      return readFileSync(credPath, "utf8").trim();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
      throw new ConfigError(name, `cannot read systemd credential '${credential}' (${code})`);
    }
  }
  return null;
}

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return def;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer between ${min} and ${max}`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}`);
  return n;
}

function flag(env: Env, name: string): boolean {
  const raw = (env[name] ?? "").trim().toLowerCase();
  if (raw === "" || raw === "0" || raw === "false" || raw === "no") return false;
  if (raw === "1" || raw === "true" || raw === "yes") return true;
  throw new ConfigError(name, "must be 1 or 0");
}

export function parseListen(raw: string): { hostname: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(raw.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || port < 0 || port > 65535) {
    throw new ConfigError("TGWH_LISTEN", "must be HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080");
  }
  return { hostname: m[1], port };
}

function httpsUrl(env: Env, name: string, required: "https" | "http(s)"): string | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, "is not a valid URL");
  }
  const ok = required === "https" ? url.protocol === "https:" : url.protocol === "https:" || url.protocol === "http:";
  if (!ok) throw new ConfigError(name, `must be an ${required} URL`);
  return raw.replace(/\/+$/, "");
}

function secretValue(env: Env, name: string, credential: string): string | null {
  const value = readSecret(env, name, credential);
  // An empty file means "not set": the unit always loads webhook_secret_old, empty outside a rotation.
  if (value === "") return null;
  if (value !== null && !SECRET_RE.test(value)) {
    throw new ConfigError(name, "must be 1-256 characters of A-Z, a-z, 0-9, '_' and '-'");
  }
  return value;
}

/** Instance ids prefix lease owners (`<id>/<pid>-…`), so they may not contain '/'. */
const INSTANCE_ID_RE = /^[A-Za-z0-9._:@\[\]-]{1,128}$/;

function instanceId(env: Env, port: number): string {
  const raw = env.TGWH_INSTANCE_ID?.trim();
  if (!raw) return `${hostname()}:${port}`;
  if (!INSTANCE_ID_RE.test(raw)) throw new ConfigError("TGWH_INSTANCE_ID", "must be 1-128 characters of A-Z, a-z, 0-9 and . _ : @ [ ] - (no '/' or spaces), and differ between gateways");
  return raw;
}

function redisUrl(env: Env): string | null {
  const raw = readSecret(env, "TGWH_REDIS_URL", "redis_url");
  if (raw === null || raw === "") return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError("TGWH_REDIS_URL", "is not a valid URL; expected redis://[:password@]host:port[/db] or rediss://…");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw new ConfigError("TGWH_REDIS_URL", "must start with redis:// or rediss:// (TLS)");
  if (!url.hostname) throw new ConfigError("TGWH_REDIS_URL", "has no host");
  return raw;
}

/**
 * TGWH_DATABASE_URL checks (here, not in store/postgres/url.ts: the configuration depends on no
 * store module). Messages never carry the URL: it holds the password.
 */
/** Why a URL is not usable, in words for the operator (never the URL itself); null when fine. */
export function databaseUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not a valid URL; expected postgres://user:password@host:5432/database";
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") return "must start with postgres:// or postgresql://";
  if (!url.hostname && !url.searchParams.get("host")) return "has no host";
  if (!decodeURIComponent(url.pathname.replace(/^\//, ""))) return "names no database (…/database at the end)";
  return null;
}

/** The password inside the URL (decoded), if any: the log scrubber removes it on its own too. */
export function databaseUrlPassword(raw: string | null): string | null {
  if (!raw) return null;
  try {
    const url = new URL(raw);
    const p = url.password ? decodeURIComponent(url.password) : url.searchParams.get("password");
    return p || null;
  } catch {
    return null;
  }
}

/**
 * TGWH_DATABASE_URL picks PostgreSQL. With an explicit TGWH_DB too, which store the operator
 * meant is a guess: refuse, naming both (the default TGWH_DB path does not count).
 */
function databaseUrl(env: Env): string | null {
  const raw = readSecret(env, "TGWH_DATABASE_URL", "database_url");
  if (raw === null || raw === "") return null;
  const problem = databaseUrlProblem(raw);
  if (problem) throw new ConfigError("TGWH_DATABASE_URL", problem);
  if (env.TGWH_DB?.trim()) {
    throw new ConfigError("TGWH_DATABASE_URL", "set together with TGWH_DB; each picks a store (PostgreSQL, or a SQLite file): unset one of them");
  }
  return raw;
}

/** Checks the whole configuration once, at start. Throws ConfigError on the first problem. */
export function loadConfig(env: Env = process.env): Config {
  const dev = flag(env, "TGWH_DEV");
  const botToken = readSecret(env, "TGWH_BOT_TOKEN", "bot_token");
  if (botToken !== null && !TOKEN_RE.test(botToken)) {
    throw new ConfigError("TGWH_BOT_TOKEN", "does not look like a bot token (expected <digits>:<35 or so characters>, from @BotFather)");
  }
  const webhookSecret = secretValue(env, "TGWH_WEBHOOK_SECRET", "webhook_secret");
  const webhookSecretOld = secretValue(env, "TGWH_WEBHOOK_SECRET_OLD", "webhook_secret_old");
  const sessionSecret = readSecret(env, "TGWH_SESSION_SECRET", "session_secret");
  if (sessionSecret !== null && sessionSecret.length < 32) {
    throw new ConfigError("TGWH_SESSION_SECRET", "must be at least 32 characters (e.g. `openssl rand -base64 48`)");
  }
  const stateDir = env.STATE_DIRECTORY?.split(":")[0];
  const dbPath = env.TGWH_DB?.trim() || (stateDir ? join(stateDir, "tgwh.db") : "./data/tgwh.db");
  const logLevel = (env.TGWH_LOG_LEVEL ?? "info").trim().toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError("TGWH_LOG_LEVEL", `must be one of ${LOG_LEVELS.join(", ")}`);
  const sync = (env.TGWH_SQLITE_SYNCHRONOUS ?? "FULL").trim().toUpperCase();
  if (sync !== "FULL" && sync !== "NORMAL") throw new ConfigError("TGWH_SQLITE_SYNCHRONOUS", "must be FULL or NORMAL");
  const retentionDays = int(env, "TGWH_RETENTION_DAYS", 7, 1, 3650);
  const leaseSeconds = int(env, "TGWH_LEASE_SECONDS", 30, 2, 3600);
  const listen = parseListen(env.TGWH_LISTEN ?? "127.0.0.1:8080");

  return {
    botToken,
    webhookSecret,
    webhookSecretOld,
    dbPath,
    databaseUrl: databaseUrl(env),
    listen,
    telegramApi: httpsUrl(env, "TGWH_TELEGRAM_API", "http(s)") ?? "https://api.telegram.org",
    publicUrl: httpsUrl(env, "TGWH_PUBLIC_URL", "https"),
    trustedProxies: (env.TGWH_TRUSTED_PROXIES ?? "127.0.0.1,::1").split(",").map((s) => s.trim()).filter(Boolean),
    workerConcurrency: int(env, "TGWH_WORKER_CONCURRENCY", 32, 1, 256),
    leaseSeconds,
    shutdownSeconds: int(env, "TGWH_SHUTDOWN_SECONDS", 10, 0, 600),
    sendPerSecond: int(env, "TGWH_SEND_PER_SECOND", 30, 0, 100000),
    initDataMaxAge: int(env, "TGWH_INIT_DATA_MAX_AGE", 3600, 0, 365 * 86400),
    sessionSecret,
    sessionTtl: int(env, "TGWH_SESSION_TTL", 86400, 60, SESSION_TTL_MAX),
    loginNotify: flag(env, "TGWH_LOGIN_NOTIFY"),
    logLevel,
    dev,
    synchronous: sync,
    busyTimeoutMs: int(env, "TGWH_BUSY_TIMEOUT_MS", 5000, 0, 60000),
    retentionDays,
    authRatePerIp: int(env, "TGWH_AUTH_RATE_PER_IP", 30, 1, 100000),
    authRatePerUser: int(env, "TGWH_AUTH_RATE_PER_USER", 10, 1, 100000),
    updateMaxAttempts: int(env, "TGWH_UPDATE_MAX_ATTEMPTS", 8, 1, 100),
    redisUrl: redisUrl(env),
    instanceId: instanceId(env, listen.port),
  };
}

/** What `serve` additionally needs: a token (or dev mode) and a webhook secret (or dev mode). */
export function checkServeConfig(cfg: Config): void {
  if (!cfg.botToken && !cfg.dev) {
    throw new ConfigError(
      "TGWH_BOT_TOKEN",
      "is not set; give it via TGWH_BOT_TOKEN, TGWH_BOT_TOKEN_FILE or the systemd credential 'bot_token' (or TGWH_DEV=1 for the local sandbox)",
    );
  }
  if (!cfg.webhookSecret && !cfg.dev) {
    throw new ConfigError(
      "TGWH_WEBHOOK_SECRET",
      "is not set; give it via TGWH_WEBHOOK_SECRET, TGWH_WEBHOOK_SECRET_FILE or the systemd credential 'webhook_secret'",
    );
  }
}

/** The password inside a Redis URL (decoded), if any: scrubbed on its own too. */
function urlPassword(raw: string | null): string | null {
  if (!raw) return null;
  try {
    const p = new URL(raw).password;
    return p ? decodeURIComponent(p) : null;
  } catch {
    return null;
  }
}

/** Every secret value the process knows, for log scrubbing. */
export function secretsOf(cfg: Config): string[] {
  return [
    cfg.botToken,
    cfg.webhookSecret,
    cfg.webhookSecretOld,
    cfg.sessionSecret,
    cfg.redisUrl,
    urlPassword(cfg.redisUrl),
    cfg.databaseUrl,
    databaseUrlPassword(cfg.databaseUrl),
  ].filter(
    (s): s is string => typeof s === "string" && s.length >= 4,
  );
}
