import { Api } from "grammy";
import type { UserFromGetMe } from "grammy/types";
import type { Settings } from "../db/settings";

const KEY = "telegram.bot_info";

/**
 * getMe, cached in the database: a restart while Telegram is unreachable still processes the
 * stored updates. The cache is keyed by the bot id so a new token refreshes it.
 */
export async function loadBotInfo(settings: Settings, token: string, apiRoot: string, timeoutSeconds: number): Promise<UserFromGetMe> {
  const botId = Number(token.split(":")[0]);
  const cached = settings.get(KEY);
  if (cached) {
    try {
      const info = JSON.parse(cached) as UserFromGetMe;
      if (info.id === botId) return info;
    } catch {
      // fall through to a fresh getMe
    }
  }
  const info = await new Api(token, { apiRoot, timeoutSeconds }).getMe();
  settings.set(KEY, JSON.stringify(info));
  return info;
}
