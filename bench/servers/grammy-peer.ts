/**
 * Contender 2 (the non-durable peer): grammY's own webhookCallback(bot, "std/http") under
 * Bun.serve, checking the same secret header, with a trivial handler that runs inline before the
 * answer. Nothing is kept on disk: a crash loses whatever was acknowledged. botInfo is given, so
 * no call ever leaves the machine.
 * Usage: bun bench/servers/grammy-peer.ts  (prints {"listen": url} once listening)
 */
import { Bot, webhookCallback } from "grammy";

const SECRET = process.env.BENCH_SECRET ?? "bench_secret_0123456789";
const bot = new Bot("123456789:BENCH_fake_token_not_real_000000000", {
  botInfo: {
    id: 123456789,
    is_bot: true,
    first_name: "Bench Bot",
    username: "tgwh_bench_bot",
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
    has_topics_enabled: false,
    allows_users_to_create_topics: false,
    can_manage_bots: false,
    supports_join_request_queries: false,
  },
  client: { apiRoot: "http://127.0.0.1:9" },
});
let handled = 0;
bot.on("message", () => {
  handled++;
});
const handle = webhookCallback(bot, "std/http", { secretToken: SECRET });
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  fetch: (req) => handle(req),
});
console.log(JSON.stringify({ listen: `http://127.0.0.1:${server.port}` }));
process.on("SIGTERM", () => {
  console.log(JSON.stringify({ handled }));
  process.exit(0);
});
