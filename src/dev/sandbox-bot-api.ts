import type { Logger } from "../log";

/**
 * The dev sandbox's stand-in for api.telegram.org, on loopback: answers the calls tgwh makes and
 * logs what the bot "sends", so `make run` shows the bot answering without a real token.
 */
export function startSandboxBotApi(log: Logger, botId: number) {
  let nextMessageId = 1;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const method = new URL(req.url).pathname.split("/").pop() ?? "";
      const body = req.method === "POST" ? await req.json().catch(() => ({})) : {};
      const ok = (result: unknown) => Response.json({ ok: true, result });
      switch (method) {
        case "getMe":
          return ok({ id: botId, is_bot: true, first_name: "tgwh dev bot", username: "tgwh_dev_bot", can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false });
        case "sendMessage":
          log.info({ sandbox: true, chatId: body.chat_id, text: body.text, buttons: body.reply_markup }, "sandbox bot sent a message");
          return ok({ message_id: nextMessageId++, date: Math.floor(Date.now() / 1000), chat: { id: body.chat_id, type: "private" }, text: body.text });
        case "getWebhookInfo":
          return ok({ url: "", has_custom_certificate: false, pending_update_count: 0 });
        default:
          return ok(true);
      }
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}
