/**
 * Contender 2 (the non-durable peer): grammY's own webhookCallback(bot, "std/http") under
 * Bun.serve, checking the same secret header, with a trivial handler that runs inline before the
 * answer. Nothing is kept on disk: a crash loses whatever was acknowledged. botInfo is given, so
 * no call ever leaves the machine.
 * Usage: bun bench/servers/grammy-peer.ts  (prints {"listen": url} once listening)
 */
import { Bot, webhookCallback } from "grammy";
import { BENCH_BOT_INFO } from "./bot-info";

const SECRET = process.env.BENCH_SECRET ?? "bench_secret_0123456789";
const bot = new Bot("123456789:BENCH_fake_token_not_real_000000000", {
  botInfo: BENCH_BOT_INFO,
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
