import { randomBytes } from "node:crypto";
import type { Config } from "../config";
import type { Logger } from "../log";
import { openStore } from "../store/open";
import { databaseLocation } from "../store/postgres/url";
import { startSandboxBotApi } from "./sandbox-bot-api";

export const DEV_BOT_ID = 1000000001;

/**
 * TGWH_DEV=1: fills in what a newcomer does not have yet. The generated webhook secret and fake
 * token are kept in the database so the printed curl command stays valid across restarts. With
 * no real token, a loopback stand-in for the Bot API answers the bot's calls.
 */
export async function resolveDevSecrets(cfg: Config): Promise<Config> {
  if (!cfg.dev || (cfg.botToken && cfg.webhookSecret)) return cfg;
  const store = await openStore(cfg, { migrate: true });
  try {
    const { settings } = store;
    const gen = () => randomBytes(24).toString("base64url");
    return {
      ...cfg,
      webhookSecret: cfg.webhookSecret ?? (await settings.getOrCreate("dev.webhook_secret", gen)),
      botToken: cfg.botToken ?? (await settings.getOrCreate("dev.bot_token", () => `${DEV_BOT_ID}:DEV_${gen()}`)),
    };
  } finally {
    await store.close();
  }
}

export function startDevBotApiIfNeeded(cfg: Config, log: Logger): { apiRoot: string; stop(): void } | null {
  if (!cfg.dev || !cfg.botToken?.startsWith(`${DEV_BOT_ID}:DEV_`)) return null;
  const api = startSandboxBotApi(log.child({ component: "sandbox-bot-api" }), DEV_BOT_ID);
  return { apiRoot: api.url, stop: api.stop };
}

/** The lines `make run` shows: where it listens and a curl that makes the bot answer. */
export function devBanner(cfg: Config, baseUrl: string): string {
  const update = JSON.stringify({
    update_id: Math.floor(Date.now() / 1000),
    message: { message_id: 1, date: Math.floor(Date.now() / 1000), chat: { id: 42, type: "private" }, from: { id: 42, is_bot: false, first_name: "Dev" }, text: "/start", entities: [{ type: "bot_command", offset: 0, length: 6 }] },
  });
  return [
    "",
    "tgwh dev sandbox is running (TGWH_DEV=1): generated secrets, a fake Bot API on loopback.",
    `  listening on ${baseUrl}   database ${cfg.databaseUrl ? databaseLocation(cfg.databaseUrl) : cfg.dbPath}`,
    "  Post an update (the bot's answer appears in the log as 'sandbox bot sent a message'):",
    "",
    `  curl -sS -X POST ${baseUrl}/telegram/webhook -H 'Content-Type: application/json' \\`,
    `    -H 'X-Telegram-Bot-Api-Secret-Token: ${cfg.webhookSecret}' \\`,
    `    -d '${update}'`,
    "",
    "  Change update_id to post another one (the same id is stored once).",
    "",
  ].join("\n");
}
