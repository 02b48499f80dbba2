import { readFileSync } from "node:fs";
import { loadConfig } from "../config";
import { WEBHOOK_PATH } from "../telegram/webhook";
import { intOption, parseArgs } from "./args";
import { EXIT, UsageError, type Command } from "./command";
import { formatReport, worstStatus, type CheckResult } from "./doctor-checks";
import { serviceEnv, SERVICE_ENV_OPTIONS } from "./env-file";
import { createSmokeToken } from "./smoke-token";
import { probeTls, targetFetch, type HttpsTarget, type TlsFacts } from "./https-probe";

const USAGE = `tgwh smoke (--chat CHAT_ID | --no-delivery) [--url https://HOST] [--resolve ADDR] [--admin-token-file FILE | TGWH_ADMIN_TOKEN=...]
           [--ca FILE] [--timeout S] [--env-file FILE] [--credentials-dir DIR] [--json]

  On the VM: sudo tgwh-admin smoke --chat CHAT_ID
  Checks the HTTPS endpoint and its certificate, posts a signed synthetic update and waits until
  it is processed, then queues a message to CHAT_ID (a chat that has sent /start to the bot) and
  waits until Telegram accepted it. Exit 1 when a check failed or could not be made;
  --no-delivery skips the message (the only check that may be left out).
  --url      defaults to TGWH_PUBLIC_URL, and then --resolve to 127.0.0.1 (the VM's own nginx)
  token      without --admin-token-file, smoke creates an operator token on the service's
             database for itself and revokes it when done`;

/**
 * Synthetic update ids start far above Telegram's (which are 32-bit and grow by one), so a smoke
 * update can never take the dedupe slot of a real one.
 */
export const SMOKE_UPDATE_ID_BASE = 8_000_000_000_000_000;

/** A plain text message the bot ignores: it is stored, processed and marked done, nothing is sent. Pure. */
export function smokeUpdate(now: number, chatId: number): { update_id: number; message: Record<string, unknown> } {
  return {
    update_id: SMOKE_UPDATE_ID_BASE + now,
    message: {
      message_id: 1,
      date: Math.floor(now / 1000),
      chat: { id: chatId, type: "private", first_name: "tgwh smoke" },
      from: { id: chatId, is_bot: false, first_name: "tgwh smoke" },
      text: `tgwh smoke test ${new Date(now).toISOString()}`,
    },
  };
}

/** The endpoint's certificate, judged. Pure. */
export function tlsCheck(f: TlsFacts, host: string, now: number): CheckResult {
  const days = Math.floor((f.validTo - now) / 86400_000);
  const detail = `${f.protocol ?? "?"}, CN=${f.subject} from ${f.issuer}, serial ${f.serial}, expires in ${days} days`;
  if (!f.authorized) {
    return { name: "tls", status: "FAIL", detail: `${detail}: not trusted for ${host} (${f.authorizationError})`, hint: "serve fullchain.pem, check the name; Telegram refuses such a certificate" };
  }
  if (f.protocol === "TLSv1" || f.protocol === "TLSv1.1") return { name: "tls", status: "FAIL", detail, hint: "Telegram needs TLS 1.2+: use deploy/nginx/snippets/tls.conf" };
  if (!(days >= 0)) return { name: "tls", status: "FAIL", detail, hint: "renew: certbot renew (the deploy hook reloads nginx)" };
  if (days < 14) return { name: "tls", status: "WARN", detail, hint: "renewal is overdue: `systemctl list-timers certbot.timer`, `certbot renew --dry-run`" };
  return { name: "tls", status: "OK", detail };
}

interface SmokeOptions {
  target: HttpsTarget;
  chatId: number | null;
  /** The operator said --no-delivery: no notification is sent, and that is not a failure. */
  noDelivery: boolean;
  adminToken: string | null;
  secret: string;
  slaMs: number;
}

const json = (res: Response) => res.json().catch(() => ({})) as Promise<Record<string, any>>;

/** Polls `url` until its job has ended (done, discarded or dead) or the SLA passes; returns the job and the wait. */
async function waitForJob(o: SmokeOptions, path: string, started: number) {
  let last: Record<string, any> = {};
  while (Date.now() - started <= o.slaMs) {
    const res = await targetFetch(o.target, path, { headers: { authorization: `Bearer ${o.adminToken}` }, timeoutMs: 10_000 });
    if (res.status === 401 || res.status === 403) return { error: `admin API refused the token (${res.status}): it needs role viewer or higher` };
    if (res.ok) {
      last = await json(res);
      if (last.state === "done" || last.state === "discarded" || last.state === "dead") return { job: last, ms: Date.now() - started };
    }
    await Bun.sleep(250);
  }
  return { job: last, ms: Date.now() - started, timedOut: true };
}

export async function runSmoke(o: SmokeOptions): Promise<CheckResult[]> {
  const host = o.target.url.hostname;
  const results: CheckResult[] = [];
  try {
    results.push(tlsCheck(await probeTls(o.target, 10_000), host, Date.now()));
  } catch (err) {
    return [{ name: "tls", status: "FAIL", detail: `cannot connect to ${o.target.url.host}: ${(err as Error).message}`, hint: "is nginx up and port 443 open? (`--resolve 127.0.0.1` tests the VM itself)" }];
  }
  if (results[0]!.status === "FAIL") return results;

  const now = Date.now();
  const update = smokeUpdate(now, o.chatId ?? 1);
  const started = Date.now();
  const res = await targetFetch(o.target, WEBHOOK_PATH, {
    method: "POST",
    headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": o.secret },
    body: JSON.stringify(update),
    timeoutMs: 30_000,
  }).catch((err: Error) => err);
  if (res instanceof Error || res.status !== 200) {
    const status = res instanceof Error ? res.message : `HTTP ${res.status}`;
    const hint =
      !(res instanceof Error) && res.status === 403
        ? "nginx refused this source: run on the VM with --resolve 127.0.0.1 (only Telegram's ranges and the VM may post)"
        : !(res instanceof Error) && res.status === 401
          ? "the secret differs from the service's: run it as `sudo tgwh-admin smoke` (or pass the same --env-file/--credentials-dir)"
          : "see nginx's error log and `journalctl -u tgwh`";
    results.push({ name: "webhook", status: "FAIL", detail: `synthetic update ${update.update_id}: ${status}`, hint });
    return results;
  }
  results.push({ name: "webhook", status: "OK", detail: `synthetic update ${update.update_id} acknowledged in ${Date.now() - started} ms` });

  if (!o.adminToken) {
    results.push({ name: "processed", status: "FAIL", detail: "not checked: no admin token", hint: "run it on the VM (`sudo tgwh-admin smoke`), where it makes its own, or give --admin-token-file" });
    return results;
  }
  const upd = await waitForJob(o, `/admin/updates/${update.update_id}`, started);
  if ("error" in upd) results.push({ name: "processed", status: "FAIL", detail: upd.error!, hint: "create one with `sudo tgwh-admin token create --name smoke --role operator`" });
  else if (upd.job.state === "done") results.push({ name: "processed", status: "OK", detail: `update ${update.update_id} done ${upd.ms} ms after it was sent` });
  else results.push({ name: "processed", status: "FAIL", detail: `update ${update.update_id} is ${upd.job.state ?? "not found"} after ${upd.ms} ms${upd.job.lastError ? `: ${upd.job.lastError}` : ""}`, hint: "is the worker running? `curl 127.0.0.1:8080/readyz`, `journalctl -u tgwh`" });

  if (o.chatId === null) {
    if (o.noDelivery) results.push({ name: "notification", status: "WARN", detail: "not checked (--no-delivery)", hint: "send /start to the bot, then run `sudo tgwh-admin smoke --chat <your chat id>`" });
    else results.push({ name: "notification", status: "FAIL", detail: "not checked: no --chat", hint: "give --chat with the id of a chat that sent /start to the bot, or say --no-delivery" });
    return results;
  }
  const sent = Date.now();
  const nres = await targetFetch(o.target, "/admin/notifications", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${o.adminToken}` },
    body: JSON.stringify({ chatId: o.chatId, text: `tgwh smoke test ${new Date(now).toISOString()}: delivery check`, dedupeKey: `smoke:${update.update_id}` }),
    timeoutMs: 10_000,
  });
  if (nres.status !== 202) {
    const body = await json(nres);
    results.push({ name: "notification", status: "FAIL", detail: `queueing refused: HTTP ${nres.status} ${body.error ?? ""}`.trim(), hint: "the token needs role operator" });
    return results;
  }
  const { jobId } = await json(nres);
  const job = await waitForJob(o, `/admin/jobs/${jobId}`, sent);
  const sla = `${o.slaMs / 1000} s SLA`;
  if ("error" in job) results.push({ name: "notification", status: "FAIL", detail: job.error!, hint: "the token needs role operator" });
  else if (job.job.state === "done") results.push({ name: "notification", status: "OK", detail: `delivered to chat ${o.chatId} in ${job.ms} ms (${sla})` });
  else {
    results.push({
      name: "notification",
      status: "FAIL",
      detail: `job ${jobId} is ${job.job.state ?? "unknown"} after ${job.ms} ms (${sla})${job.job.lastError ? `: ${job.job.lastError}` : ""}`,
      hint: "has the bot been started in that chat? Is the Bot API reachable (`sudo tgwh-admin doctor`)?",
    });
  }
  return results;
}

function readOptionFile(name: string, path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch (err) {
    throw new UsageError(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

export const smokeCommand: Command = {
  name: "smoke",
  summary: "end-to-end check of a deployment: HTTPS + certificate, a signed synthetic update processed, a notification delivered",
  usage: USAGE,
  async run(args, env) {
    const p = parseArgs(args, {
      flags: ["--json", "--no-delivery"],
      options: ["--url", "--chat", "--admin-token", "--admin-token-file", "--resolve", "--ca", "--timeout", ...SERVICE_ENV_OPTIONS],
    });
    const noDelivery = p.flags.has("--no-delivery");
    const chat = p.options.get("--chat");
    if (chat !== undefined && noDelivery) throw new UsageError("give --chat or --no-delivery, not both");
    const svcEnv = serviceEnv(p, env);
    const cfg = loadConfig(svcEnv);
    const rawUrl = p.options.get("--url") ?? cfg.publicUrl;
    if (!rawUrl) throw new UsageError("--url is required when TGWH_PUBLIC_URL is not set (the public https base URL, e.g. https://bot.example.com)");
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      throw new UsageError("--url is not a valid URL");
    }
    if (url.protocol !== "https:") throw new UsageError("--url must be https:// (Telegram only posts to HTTPS)");
    if (chat !== undefined && !/^-?\d{1,20}$/.test(chat)) throw new UsageError("--chat must be a numeric chat id (a group's starts with -: --chat=-100123)");
    // The public URL from the service's settings means "this VM": go through its own nginx.
    const resolve = p.options.get("--resolve") ?? (p.options.has("--url") ? null : "127.0.0.1");
    if (resolve !== null && !/^[0-9.]+$|^[0-9a-fA-F:]+$/.test(resolve)) throw new UsageError("--resolve must be an IP address, e.g. 127.0.0.1");
    const tokenFile = p.options.get("--admin-token-file");
    const adminToken = p.options.get("--admin-token") ?? (tokenFile ? readOptionFile("--admin-token-file", tokenFile) : null) ?? env.TGWH_ADMIN_TOKEN ?? null;
    const caFile = p.options.get("--ca");
    if (!cfg.webhookSecret) throw new UsageError("the webhook secret is needed to sign the synthetic update: run it as `sudo tgwh-admin smoke`, or give --env-file/--credentials-dir or TGWH_WEBHOOK_SECRET_FILE");
    const slaMs = intOption(p, "--timeout", 30, 1, 600) * 1000;
    const ca = caFile ? readOptionFile("--ca", caFile) : undefined;
    // Last: it may switch to the database's owner (run as root), after every root-only read.
    const own = adminToken ? null : await createSmokeToken(svcEnv);
    let results: CheckResult[];
    try {
      results = await runSmoke({
        target: { url, resolve, ca },
        chatId: chat === undefined ? null : Number(chat),
        noDelivery,
        adminToken: adminToken || own?.token || null,
        secret: cfg.webhookSecret,
        slaMs,
      });
    } finally {
      await own?.revoke();
    }
    if (own) results.push({ name: "token", status: "OK", detail: `used its own operator token '${own.name}', now revoked` });
    const status = worstStatus(results);
    if (p.flags.has("--json")) console.log(JSON.stringify({ status, checks: results }));
    else console.log(`smoke test of ${url.origin}\n${formatReport(results)}`);
    return status === "FAIL" ? EXIT.failure : EXIT.ok;
  },
};
