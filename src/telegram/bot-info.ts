import { Api } from "grammy";
import type { UserFromGetMe } from "grammy/types";
import type { SettingStore } from "../store/types";

const KEY = "telegram.bot_info";

/**
 * getMe, cached in the database: a restart while Telegram is unreachable still processes the
 * stored updates. The cache is keyed by the bot id so a new token refreshes it.
 */
export async function loadBotInfo(settings: Pick<SettingStore, "get" | "set">, token: string, apiRoot: string, timeoutSeconds: number): Promise<UserFromGetMe> {
  const botId = Number(token.split(":")[0]);
  const cached = await settings.get(KEY);
  if (cached) {
    try {
      const info = JSON.parse(cached) as UserFromGetMe;
      if (info.id === botId) return info;
    } catch {
      // fall through to a fresh getMe
    }
  }
  const info = await new Api(token, { apiRoot, timeoutSeconds }).getMe();
  await settings.set(KEY, JSON.stringify(info));
  return info;
}
