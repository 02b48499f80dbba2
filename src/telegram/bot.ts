import { Bot, InlineKeyboard, type Context, type Transformer } from "grammy";
import type { UserFromGetMe } from "grammy/types";

export interface BotOptions {
  token: string;
  apiRoot: string;
  botInfo: UserFromGetMe;
  /** Public https base URL; when set, /start offers the Mini App at `${publicUrl}/app`. */
  publicUrl: string | null;
  transformer: Transformer;
  /** Outbound calls must finish well inside the job lease. */
  timeoutSeconds: number;
}

export const WELCOME_TEXT = "Welcome! Open the app below to sign in with your Telegram account, no password needed.";
export const WELCOME_TEXT_NO_APP = "Welcome! The sign-in app is not published yet (TGWH_PUBLIC_URL is not set).";
export const HELP_TEXT = "Commands:\n/start: open the sign-in app\n/help: this message";

/** Answers in the same chat, threaded to the message that asked, when there is one. */
function replyTo(ctx: Context, text: string, extra: Record<string, unknown> = {}) {
  const messageId = ctx.msg?.message_id;
  return ctx.reply(text, {
    ...extra,
    ...(messageId ? { reply_parameters: { message_id: messageId, allow_sending_without_reply: true } } : {}),
  });
}

/** The bot's behaviour: /start with the Mini App button, /help; everything else is ignored. */
export function createBot(opts: BotOptions): Bot {
  const bot = new Bot(opts.token, {
    botInfo: opts.botInfo,
    client: { apiRoot: opts.apiRoot, timeoutSeconds: opts.timeoutSeconds },
  });
  bot.api.config.use(opts.transformer);
  bot.command("start", (ctx) => {
    if (!opts.publicUrl) return replyTo(ctx, WELCOME_TEXT_NO_APP);
    const keyboard = new InlineKeyboard().webApp("Open the app", `${opts.publicUrl}/app`);
    return replyTo(ctx, WELCOME_TEXT, { reply_markup: keyboard });
  });
  bot.command("help", (ctx) => replyTo(ctx, HELP_TEXT));
  return bot;
}
