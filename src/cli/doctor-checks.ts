/** The judgements of `tgwh doctor`: facts in, OK/WARN/FAIL lines with a hint out. Pure. */
import { DEFAULT_ALLOWED_UPDATES } from "../operations/telegram-webhook";

export type CheckStatus = "OK" | "WARN" | "FAIL";

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a WARN or FAIL. */
  hint?: string;
}

/** How every hint names a command: the one documented way to run the CLI on a VM. */
export const ADMIN_CMD = "sudo tgwh-admin";

const ok = (name: string, detail: string): CheckResult => ({ name, status: "OK", detail });
const warn = (name: string, detail: string, hint: string): CheckResult => ({ name, status: "WARN", detail, hint });
const fail = (name: string, detail: string, hint: string): CheckResult => ({ name, status: "FAIL", detail, hint });

export interface CredentialFacts {
  botToken: boolean;
  webhookSecret: boolean;
  webhookSecretOld: boolean;
  sessionSecret: boolean;
  /** Credential files readable by group or others (names only), when a credentials dir is used. */
  looseFiles: string[];
}

export function credentialChecks(f: CredentialFacts): CheckResult[] {
  const out: CheckResult[] = [];
  out.push(
    f.botToken
      ? ok("bot_token", "present")
      : fail("bot_token", "missing", "write it with `sudo deploy/install.sh --bot-token-file -` (or TGWH_BOT_TOKEN_FILE / credential bot_token)"),
  );
  out.push(
    f.webhookSecret
      ? ok("webhook_secret", f.webhookSecretOld ? "present, and the old secret is still accepted (rotation window open)" : "present")
      : fail("webhook_secret", "missing", "install.sh generates one; or write /etc/tgwh/credentials/webhook_secret (A-Z a-z 0-9 _ -)"),
  );
  if (f.webhookSecretOld) {
    out.push(warn("rotation", "webhook_secret_old is set", `after \`${ADMIN_CMD} webhook set\` and a few minutes, empty /etc/tgwh/credentials/webhook_secret_old and restart (docs/runbook.md)`));
  }
  out.push(
    f.sessionSecret
      ? ok("session_secret", "present")
      : warn("session_secret", "not set: a key generated once is kept in the database", "to control or rotate it, write /etc/tgwh/credentials/session_secret (32+ characters)"),
  );
  if (f.looseFiles.length > 0) {
    out.push(fail("credential_modes", `readable by group or others: ${f.looseFiles.join(", ")}`, "chmod 0600 and chown root:root the files in /etc/tgwh/credentials"));
  }
  return out;
}

/** The credentials folder exists but this user cannot list it (EACCES as a non-root user). */
export function credentialsFolderCheck(dir: string, code: string): CheckResult {
  return fail("credentials", `cannot read ${dir} (${code})`, `it is root's (0700): run \`${ADMIN_CMD} doctor\``);
}

export interface DatabaseFacts {
  path: string;
  exists: boolean;
  /** null when the file could be opened and locked for writing; else the error. */
  writeError: string | null;
  pendingMigrations: string[] | null;
  /** How the file keeps per-chat order (store/sqlite/chains/); null when it could not be read. */
  chainMode?: "index" | "list" | null;
}

export function databaseChecks(f: DatabaseFacts): CheckResult[] {
  if (!f.exists) return [warn("database", `${f.path} does not exist yet`, "it is created on the first start; check TGWH_DB if the service already ran")];
  if (f.writeError !== null) {
    return [fail("database", `${f.path} is not writable: ${f.writeError}`, "check the owner (tgwh) and free space; a read-only file system or a stuck lock also cause this")];
  }
  const out = [ok("database", `${f.path} writable`)];
  if (f.pendingMigrations === null) out.push(fail("migrations", "could not read the migration table", `run \`${ADMIN_CMD} migrate\` and look at its error`));
  else if (f.pendingMigrations.length > 0) out.push(fail("migrations", `pending: ${f.pendingMigrations.join(", ")}`, `run \`${ADMIN_CMD} migrate\` (the service also applies them at start)`));
  else if (f.chainMode === "index") {
    out.push(
      warn(
        "migrations",
        "all applied; per-chat order still in the jobs_chain index (a file from before 0003)",
        `once no older tgwh will run on it: \`${ADMIN_CMD} migrate --chain-list\` (faster ingest; docs/runbook.md, upgrade step 5)`,
      ),
    );
  } else out.push(ok("migrations", f.chainMode === "list" ? "all applied; per-chat order in linked lists" : "all applied"));
  return out;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export function diskCheck(path: string, freeBytes: number, totalBytes: number): CheckResult {
  const pct = totalBytes > 0 ? (freeBytes / totalBytes) * 100 : 0;
  const detail = `${(freeBytes / GiB).toFixed(1)} GiB free (${pct.toFixed(0)}%) on the file system of ${path}`;
  if (freeBytes < 100 * MiB || pct < 1) return fail("disk", detail, "free space now: a full disk makes the webhook answer 503 and Telegram queue updates");
  if (freeBytes < GiB || pct < 10) return warn("disk", detail, "free space soon (old backups, logs); the job table grows with the backlog");
  return ok("disk", detail);
}

/** skew = local clock - Telegram's Date header (1 s resolution, so ±2 s is noise). */
export function clockCheck(skewSeconds: number): CheckResult {
  const detail = `local clock ${skewSeconds >= 0 ? "+" : ""}${skewSeconds.toFixed(1)} s against Telegram's Date header`;
  const hint = "enable time sync (`timedatectl set-ntp true`; systemd-timesyncd or chrony): initData and session expiry depend on it";
  if (Math.abs(skewSeconds) > 30) return fail("clock", detail, hint);
  if (Math.abs(skewSeconds) > 2) return warn("clock", detail, hint);
  return ok("clock", detail);
}

export interface WebhookFacts {
  url: string;
  pendingUpdateCount: number;
  maxConnections: number | null;
  allowedUpdates: string[] | null;
  lastErrorDate: string | null;
  lastErrorMessage: string | null;
}

/** getWebhookInfo against what this configuration expects. */
export function webhookChecks(info: WebhookFacts, expectedUrl: string | null, now: number): CheckResult[] {
  const out: CheckResult[] = [];
  if (!info.url) out.push(fail("webhook_url", "no webhook is set", `run \`${ADMIN_CMD} webhook set\` (after nginx serves HTTPS)`));
  else if (expectedUrl === null) out.push(warn("webhook_url", `set to ${info.url}; TGWH_PUBLIC_URL is not set to compare`, "set TGWH_PUBLIC_URL in /etc/tgwh/tgwh.env"));
  else if (info.url !== expectedUrl) out.push(fail("webhook_url", `Telegram posts to ${info.url}, expected ${expectedUrl}`, `run \`${ADMIN_CMD} webhook set\`, or fix TGWH_PUBLIC_URL`));
  else out.push(ok("webhook_url", info.url));

  const pending = info.pendingUpdateCount;
  if (pending > 1000) out.push(fail("webhook_pending", `${pending} updates wait at Telegram`, "Telegram cannot deliver: see webhook_last_error, nginx and `journalctl -u tgwh`"));
  else if (pending > 100) out.push(warn("webhook_pending", `${pending} updates wait at Telegram`, "delivery is behind: check the last error and the ack latency"));
  else out.push(ok("webhook_pending", `${pending} waiting at Telegram`));

  const errAt = info.lastErrorDate ? Date.parse(info.lastErrorDate) : NaN;
  if (info.lastErrorMessage && Number.isFinite(errAt) && now - errAt < 24 * 3600_000) {
    const mins = Math.max(0, Math.round((now - errAt) / 60_000));
    out.push(warn("webhook_last_error", `${mins} min ago: ${info.lastErrorMessage}`, "Telegram retries; if it repeats, check nginx's error log, the certificate chain and that tgwh is running"));
  } else out.push(ok("webhook_last_error", info.lastErrorMessage ? `none in 24 h (last: ${info.lastErrorDate})` : "none"));

  const mc = info.maxConnections;
  if (mc !== null && mc > 100) out.push(warn("webhook_max_connections", String(mc), "Telegram allows 1-100"));
  else out.push(ok("webhook_max_connections", mc === null ? "Telegram's default (40)" : String(mc)));

  const au = info.allowedUpdates;
  if (au && au.length > 0 && !au.includes("message")) {
    out.push(warn("webhook_allowed_updates", au.join(","), `the bot answers /start in \`message\` updates: run \`${ADMIN_CMD} webhook set --allowed-updates ${DEFAULT_ALLOWED_UPDATES.join(",")}\``));
  } else out.push(ok("webhook_allowed_updates", au && au.length > 0 ? au.join(",") : "all except chat_member types (Telegram's default)"));
  return out;
}

/** The text report: one line per check, hints indented below WARN and FAIL lines. */
export function formatReport(results: CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.name.length), 8);
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${r.status.padEnd(4)}  ${r.name.padEnd(width)}  ${r.detail}`);
    if (r.hint && r.status !== "OK") lines.push(`${" ".repeat(6 + width + 2)}hint: ${r.hint}`);
  }
  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  lines.push(`${count("FAIL")} failed, ${count("WARN")} warnings, ${count("OK")} ok`);
  return lines.join("\n");
}

export const worstStatus = (results: CheckResult[]): CheckStatus =>
  results.some((r) => r.status === "FAIL") ? "FAIL" : results.some((r) => r.status === "WARN") ? "WARN" : "OK";
