import { existsSync, readdirSync, statSync, statfsSync } from "node:fs";
import { dirname, join } from "node:path";
import { getWebhookStatus, webhookDeps } from "../operations/telegram-webhook";
import { ConfigError, loadConfig, secretsOf, type Config } from "../config";
import { createScrubber } from "../log";
import { openStore } from "../store/open";
import { databaseLocation } from "../store/postgres/url";
import { intOption, parseArgs } from "./args";
import { EXIT, type Command } from "./command";
import { credentialChecks, credentialsFolderCheck, clockCheck, databaseChecks, diskCheck, formatReport, webhookChecks, worstStatus, type CheckResult } from "./doctor-checks";
import { sharedEngineChecks } from "./doctor-shared";
import { serviceEnv, SERVICE_ENV_OPTIONS } from "./env-file";
import { actAsServiceUser } from "./run-as-service-user";

const USAGE = "tgwh doctor [--env-file FILE] [--credentials-dir DIR] [--timeout SECONDS] [--json]";

/** The credential files others may read; or the error code when the folder itself cannot be listed. */
function looseCredentialFiles(dir: string | undefined): string[] | { unreadable: string } {
  if (!dir || !existsSync(dir)) return [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    return { unreadable: (err as NodeJS.ErrnoException).code ?? "error" };
  }
  return names.filter((name) => {
    try {
      const st = statSync(join(dir, name));
      return st.isFile() && (st.mode & 0o077) !== 0;
    } catch {
      return false;
    }
  });
}

async function checkDatabase(cfg: Config): Promise<CheckResult[]> {
  const exists = existsSync(cfg.dbPath);
  if (!exists) return databaseChecks({ path: cfg.dbPath, exists, writeError: null, pendingMigrations: null });
  let writeError: string | null = null;
  let pending: string[] | null = null;
  let chainMode: "index" | "list" | null = null;
  let note: string | null = null;
  try {
    // Run as root (to read /etc/tgwh/credentials), the database is checked as its owner.
    note = actAsServiceUser(cfg.dbPath);
    const store = await openStore(cfg, { migrate: false, mustExist: "reachable" });
    try {
      const w = await store.health.writable();
      writeError = w.ok ? null : (w.detail ?? "not writable");
      try {
        pending = (await store.health.migrations()).pending;
        if (pending.length === 0) chainMode = await store.chainMode();
      } catch {
        pending = null;
      }
    } finally {
      await store.close();
    }
  } catch (err) {
    writeError = (err as Error).message;
  }
  const results = databaseChecks({ path: cfg.dbPath, exists, writeError, pendingMigrations: pending, chainMode });
  if (note && results[0]?.status === "OK") results[0].detail += ` (${note})`;
  return results;
}

function checkDisk(dbPath: string): CheckResult {
  let dir = dirname(dbPath);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  const fs = statfsSync(dir);
  return diskCheck(dir, fs.bavail * fs.bsize, fs.blocks * fs.bsize);
}

async function checkService(cfg: Config, timeoutMs: number): Promise<CheckResult> {
  const host = cfg.listen.hostname.includes(":") ? `[${cfg.listen.hostname}]` : cfg.listen.hostname;
  const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${cfg.listen.port}/readyz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json().catch(() => ({}))) as { checks?: { name: string; ok: boolean; detail?: string }[] };
    if (res.ok) return { name: "service", status: "OK", detail: `ready at ${url}` };
    const failing = (body.checks ?? []).filter((c) => !c.ok).map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ""}`);
    return { name: "service", status: "FAIL", detail: `not ready at ${url}: ${failing.join(", ") || `HTTP ${res.status}`}`, hint: "see `journalctl -u tgwh`" };
  } catch {
    return { name: "service", status: "WARN", detail: `nothing answers at ${url}`, hint: "is tgwh running? `systemctl status tgwh` (TGWH_LISTEN must match the unit's)" };
  }
}

/** getMe over plain fetch, so the Date header is at hand for the clock check. */
async function checkTelegram(cfg: Config, timeoutMs: number): Promise<CheckResult[]> {
  const token = cfg.botToken!;
  const scrub = createScrubber(secretsOf(cfg));
  const started = Date.now();
  let res: Response;
  try {
    res = await fetch(`${cfg.telegramApi}/bot${token}/getMe`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    return [{ name: "telegram", status: "FAIL", detail: `cannot reach ${cfg.telegramApi}: ${scrub((err as Error).message)}`, hint: "check DNS, the firewall's outbound 443 and any HTTPS proxy" }];
  }
  const midpoint = (started + Date.now()) / 2;
  const body = (await res.json().catch(() => null)) as { ok?: boolean; result?: { username?: string; id?: number }; description?: string } | null;
  const out: CheckResult[] = [];
  if (res.ok && body?.ok) out.push({ name: "telegram", status: "OK", detail: `getMe: @${body.result?.username} (id ${body.result?.id}) in ${Date.now() - started} ms` });
  else if (res.status === 401 || res.status === 404) {
    out.push({ name: "telegram", status: "FAIL", detail: `getMe refused (${res.status}): the bot token is wrong or revoked`, hint: "get the current token from @BotFather and write it with install.sh --bot-token-file -" });
  } else out.push({ name: "telegram", status: "FAIL", detail: `getMe answered ${res.status}: ${scrub(body?.description ?? "")}`, hint: "retry later; see https://t.me/BotNews for outages" });
  const date = res.headers.get("date");
  // The header has 1 s resolution: the server's time lies in [date, date + 1 s).
  if (date && Number.isFinite(Date.parse(date))) out.push(clockCheck((midpoint - (Date.parse(date) + 500)) / 1000));
  else out.push({ name: "clock", status: "WARN", detail: "Telegram's answer had no Date header to compare with", hint: "check time sync with `timedatectl`" });
  return out;
}

async function checkWebhook(cfg: Config): Promise<CheckResult[]> {
  try {
    const st = await getWebhookStatus(webhookDeps(cfg));
    return webhookChecks(st.telegram, st.expectedUrl, Date.now());
  } catch (err) {
    return [{ name: "webhook", status: "FAIL", detail: (err as Error).message, hint: "getWebhookInfo failed: see the telegram line above" }];
  }
}

export async function runDoctor(env: Record<string, string | undefined>, timeoutMs: number): Promise<CheckResult[]> {
  // Before the configuration: an unreadable folder would otherwise look like missing secrets.
  const loose = looseCredentialFiles(env.CREDENTIALS_DIRECTORY);
  if (!Array.isArray(loose)) {
    return [credentialsFolderCheck(env.CREDENTIALS_DIRECTORY!, loose.unreadable)];
  }
  let cfg: Config;
  try {
    cfg = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [{ name: "config", status: "FAIL", detail: err.message, hint: "fix /etc/tgwh/tgwh.env or the credential named; nothing else can be checked" }];
  }
  const where = cfg.databaseUrl ? databaseLocation(cfg.databaseUrl) : cfg.dbPath;
  const results: CheckResult[] = [{ name: "config", status: "OK", detail: `database ${where}, listen ${cfg.listen.hostname}:${cfg.listen.port}, public ${cfg.publicUrl ?? "(TGWH_PUBLIC_URL not set)"}` }];
  results.push(
    ...credentialChecks({
      botToken: !!cfg.botToken,
      webhookSecret: !!cfg.webhookSecret,
      webhookSecretOld: !!cfg.webhookSecretOld,
      sessionSecret: !!cfg.sessionSecret,
      looseFiles: loose,
    }),
  );
  // PostgreSQL (reachable, a primary, migrated, synchronous_commit) and Redis, with hints; or the SQLite file and its disk.
  const shared = await sharedEngineChecks(cfg, Math.min(timeoutMs, 5000));
  if (cfg.databaseUrl) results.push(...shared.database);
  else results.push(...(await checkDatabase(cfg)), checkDisk(cfg.dbPath));
  results.push(...shared.redis);
  results.push(await checkService(cfg, Math.min(timeoutMs, 3000)));
  if (!cfg.botToken) return results;
  const telegram = await checkTelegram(cfg, timeoutMs);
  results.push(...telegram);
  if (telegram[0]?.status === "OK") results.push(...(await checkWebhook(cfg)));
  return results;
}

export const doctorCommand: Command = {
  name: "doctor",
  summary: "check config, credentials, database (SQLite or PostgreSQL), Redis, disk, clock, Telegram and the webhook (OK/WARN/FAIL lines)",
  usage: USAGE,
  async run(args, env) {
    const p = parseArgs(args, { flags: ["--json"], options: [...SERVICE_ENV_OPTIONS, "--timeout"] });
    const timeoutMs = intOption(p, "--timeout", 10, 1, 120) * 1000;
    const results = await runDoctor(serviceEnv(p, env), timeoutMs);
    const status = worstStatus(results);
    if (p.flags.has("--json")) console.log(JSON.stringify({ status, checks: results }));
    else console.log(formatReport(results));
    return status === "FAIL" ? EXIT.failure : EXIT.ok;
  },
};
