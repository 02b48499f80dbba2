/**
 * Whom a 429 holds. Telegram's answer does not say whether it limits one chat or the whole bot,
 * so this infers it. Pure apart from the memory of recent 429s, tested alone.
 * - a 429 on a call tied to no chat: the bot;
 * - 429s for two or more different chats within FLOOD_WINDOW_MS: the bot (Telegram is limiting
 *   the bot as a whole; holding only each chat would keep trying the others into more 429s);
 * - otherwise: that chat.
 */
export const FLOOD_WINDOW_MS = 1000;

export type HoldTarget = { chatId: number | string } | { chatId: null };

export function createRetryAfterPolicy(clock: () => number = Date.now) {
  let recent: { chat: string; at: number }[] = [];
  return {
    /** The holds to apply for a 429 on a call to chatId (undefined: no chat). */
    targets(chatId: number | string | undefined): HoldTarget[] {
      if (chatId === undefined) return [{ chatId: null }];
      const now = clock();
      const chat = String(chatId);
      recent = recent.filter((r) => r.at > now - FLOOD_WINDOW_MS && r.chat !== chat);
      recent.push({ chat, at: now });
      return recent.length >= 2 ? [{ chatId }, { chatId: null }] : [{ chatId }];
    },
  };
}
