/**
 * Redis key names of the shared limits. Everything sits under the bot's id, so several bots can
 * share one Redis without sharing limits (Telegram counts per bot). The send keys carry one hash
 * tag, `{<bot id>}`, so the script that touches a chat, the global window and the hold at once
 * also runs on Redis Cluster (all its keys in one slot). Every key expires (see the scripts).
 */
export interface LimitKeys {
  chat(chatId: number | string): string;
  /** Sorted set: the sends of the current global window (score = decision time). */
  global: string;
  /** The whole bot held by a 429 until the value (ms). */
  hold: string;
  /** Sends nobody on this Redis knows of may have gone until the value (ms): a restarted Redis lost them (redis-send-limiter.ts). */
  blind: string;
  /** Sorted set: gateways seen lately (score = last heartbeat), for the fallback share. */
  gateways: string;
  /** Token bucket of one auth limiter key (`ip:…`, `user:…`). */
  bucket(key: string): string;
}

/** The bot id is the token's part before the colon; it is public (getMe shows it). */
export function botNamespace(botToken: string | null): string {
  const id = botToken?.split(":")[0];
  return id && /^\d+$/.test(id) ? id : "nobot";
}

export function limitKeys(namespace: string): LimitKeys {
  const send = `tgwh:{${namespace}}`;
  return {
    chat: (chatId) => `${send}:send:chat:${chatId}`,
    global: `${send}:send:global`,
    hold: `${send}:send:hold`,
    blind: `${send}:send:blind`,
    gateways: `${send}:gateways`,
    bucket: (key) => `tgwh:${namespace}:auth:${key}`,
  };
}
