import { Api, GrammyError } from "grammy";
import type { WebhookInfo } from "grammy/types";
import { ConfigError, secretsOf, type Config } from "../config";
import { createScrubber, type Scrub } from "../log";
import { unknownUpdateTypes } from "../telegram/update-types";
import { WEBHOOK_PATH } from "../telegram/webhook";
import { OperationError, TelegramCallError } from "./errors";

/**
 * Telegram's side of the webhook: getWebhookInfo, setWebhook and deleteWebhook with the bot's
 * token, their failures as TelegramCallError. Audited by operations/webhook.ts; read by
 * GET /admin/webhook, `tgwh webhook info` and `tgwh doctor`.
 */

/** What these calls need, from Config (webhookDeps). */
export interface WebhookOpsDeps {
  botToken: string | null;
  webhookSecret: string | null;
  publicUrl: string | null;
  telegramApi: string;
  timeoutSeconds?: number;
  /** Removes every configured secret from Telegram's error text (it may echo the request). */
  scrub: Scrub;
}

export interface SetWebhookOptions {
  allowedUpdates?: string[];
  maxConnections?: number;
  dropPendingUpdates?: boolean;
}

/** The update types the bot handles; Telegram does not send the others (chat_member needs opting in). */
export const DEFAULT_ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"];
export const DEFAULT_MAX_CONNECTIONS = 40;
/** The only ports Telegram delivers webhooks to. */
export const WEBHOOK_PORTS = [443, 80, 88, 8443] as const;

/** Null when Telegram can deliver to `url`; else why not. Pure. */
export function webhookUrlProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `TGWH_PUBLIC_URL gives '${url}', which is not a URL`;
  }
  if (u.protocol !== "https:") return `Telegram only posts to https:// URLs, not ${u.protocol}//`;
  const port = Number(u.port || 443);
  if (!(WEBHOOK_PORTS as readonly number[]).includes(port)) {
    return `Telegram only delivers webhooks to ports ${WEBHOOK_PORTS.join(", ")}; TGWH_PUBLIC_URL says ${port}`;
  }
  return null;
}

/** Checks what the caller asked for before anything is sent: an OperationError "invalid" names what Telegram would refuse. Pure. */
export function validateSetOptions(opts: SetWebhookOptions): void {
  if (opts.allowedUpdates) {
    const problem = unknownUpdateTypes(opts.allowedUpdates);
    if (problem) throw new OperationError("invalid", problem);
  }
  if (opts.maxConnections !== undefined && !(Number.isInteger(opts.maxConnections) && opts.maxConnections >= 1 && opts.maxConnections <= 100)) {
    throw new OperationError("invalid", "max_connections must be an integer from 1 to 100");
  }
}

/**
 * What setWebhook sends for the settings the caller left out: the current registration's (so a
 * secret rotation or a re-run of install.sh keeps an operator's max_connections and
 * allowed_updates), or tgwh's defaults when no webhook is set. Pure.
 */
export function settingsToSend(opts: SetWebhookOptions, current: { url: string; maxConnections: number | null; allowedUpdates: string[] | null }) {
  const registered = current.url !== "";
  const maxConnections = opts.maxConnections ?? (registered ? (current.maxConnections ?? DEFAULT_MAX_CONNECTIONS) : DEFAULT_MAX_CONNECTIONS);
  // Telegram leaves out allowed_updates when it is its own default; sending nothing keeps that.
  const allowedUpdates = opts.allowedUpdates ?? (registered ? (current.allowedUpdates ?? null) : DEFAULT_ALLOWED_UPDATES);
  const kept = registered ? [...(opts.maxConnections === undefined ? ["max_connections"] : []), ...(opts.allowedUpdates === undefined ? ["allowed_updates"] : [])] : [];
  return { maxConnections, allowedUpdates, kept };
}

/** Telegram's view of the webhook, in camelCase, without anything secret (it holds none). */
export interface TelegramWebhookInfo {
  url: string;
  hasCustomCertificate: boolean;
  pendingUpdateCount: number;
  maxConnections: number | null;
  allowedUpdates: string[] | null;
  ipAddress: string | null;
  lastErrorDate: string | null;
  lastErrorMessage: string | null;
  lastSynchronizationErrorDate: string | null;
}

const isoFromUnix = (s: number | undefined) => (s ? new Date(s * 1000).toISOString() : null);

/** The URL setWebhook registers: TGWH_PUBLIC_URL + the ingress path. */
export function expectedWebhookUrl(publicUrl: string | null): string | null {
  return publicUrl ? `${publicUrl.replace(/\/+$/, "")}${WEBHOOK_PATH}` : null;
}

function api(deps: WebhookOpsDeps): { api: Api; scrub: Scrub } {
  if (!deps.botToken) throw new ConfigError("TGWH_BOT_TOKEN", "is not set; the webhook is managed with the bot's token");
  return { api: new Api(deps.botToken, { apiRoot: deps.telegramApi, timeoutSeconds: deps.timeoutSeconds ?? 15 }), scrub: deps.scrub };
}

/** Runs one Bot API call and turns its failure into a TelegramCallError with every secret scrubbed. */
async function call<T>(method: string, scrub: Scrub, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof GrammyError) {
      throw new TelegramCallError(`Telegram refused ${method} (${err.error_code}): ${scrub(err.description)}`, err.error_code);
    }
    throw new TelegramCallError(`could not reach the Bot API for ${method}: ${scrub((err as Error)?.message ?? String(err))}`, null);
  }
}

export function toWebhookInfo(info: WebhookInfo): TelegramWebhookInfo {
  return {
    url: info.url ?? "",
    hasCustomCertificate: info.has_custom_certificate,
    pendingUpdateCount: info.pending_update_count,
    maxConnections: info.max_connections ?? null,
    allowedUpdates: info.allowed_updates ?? null,
    ipAddress: info.ip_address ?? null,
    lastErrorDate: isoFromUnix(info.last_error_date),
    lastErrorMessage: info.last_error_message ?? null, // scrubbed by getWebhookStatus
    lastSynchronizationErrorDate: isoFromUnix(info.last_synchronization_error_date),
  };
}

/** getWebhookInfo, with whether Telegram points at the URL this configuration expects. */
export async function getWebhookStatus(deps: WebhookOpsDeps): Promise<{ telegram: TelegramWebhookInfo; expectedUrl: string | null; urlMatches: boolean }> {
  const { api: a, scrub } = api(deps);
  const info = toWebhookInfo(await call("getWebhookInfo", scrub, () => a.getWebhookInfo()));
  if (info.lastErrorMessage) info.lastErrorMessage = scrub(info.lastErrorMessage);
  const expectedUrl = expectedWebhookUrl(deps.publicUrl);
  return { telegram: info, expectedUrl, urlMatches: expectedUrl !== null && info.url === expectedUrl };
}

/**
 * setWebhook to TGWH_PUBLIC_URL + /telegram/webhook with the current secret token. Reads
 * getWebhookInfo first and keeps the settings the caller does not change (settingsToSend).
 */
export async function setWebhook(deps: WebhookOpsDeps, opts: SetWebhookOptions = {}) {
  const url = expectedWebhookUrl(deps.publicUrl);
  if (!url) throw new ConfigError("TGWH_PUBLIC_URL", "is not set; it is the public https base URL Telegram posts updates to");
  const urlProblem = webhookUrlProblem(url);
  if (urlProblem) throw new ConfigError("TGWH_PUBLIC_URL", urlProblem);
  if (!deps.webhookSecret) throw new ConfigError("TGWH_WEBHOOK_SECRET", "is not set; Telegram must send it with every update");
  validateSetOptions(opts);
  const dropPendingUpdates = opts.dropPendingUpdates ?? false;
  const { api: a, scrub } = api(deps);
  const current = toWebhookInfo(await call("getWebhookInfo", scrub, () => a.getWebhookInfo()));
  const { maxConnections, allowedUpdates, kept } = settingsToSend(opts, current);
  await call("setWebhook", scrub, () =>
    a.setWebhook(url, {
      secret_token: deps.webhookSecret!,
      ...(allowedUpdates ? { allowed_updates: allowedUpdates as never } : {}),
      max_connections: maxConnections,
      drop_pending_updates: dropPendingUpdates,
    }),
  );
  return { url, allowedUpdates, maxConnections, dropPendingUpdates, kept, previousUrl: current.url || null };
}

/** deleteWebhook (optionally dropping what Telegram still holds for us). */
export async function deleteWebhook(deps: WebhookOpsDeps, opts: { dropPendingUpdates?: boolean } = {}) {
  const { api: a, scrub } = api(deps);
  const dropPendingUpdates = opts.dropPendingUpdates ?? false;
  await call("deleteWebhook", scrub, () => a.deleteWebhook({ drop_pending_updates: dropPendingUpdates }));
  return { deleted: true as const, dropPendingUpdates };
}

/** The deps from a loaded config. */
export const webhookDeps = (cfg: Config): WebhookOpsDeps => ({
  botToken: cfg.botToken,
  webhookSecret: cfg.webhookSecret,
  publicUrl: cfg.publicUrl,
  telegramApi: cfg.telegramApi,
  scrub: createScrubber(secretsOf(cfg)),
});
