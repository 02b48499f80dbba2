/**
 * Runs `tgwh serve` in this process (through src/main.ts, as the binary does) against a stand-in
 * Bot API, for scripts/codebase-report.ts, which runs it twice under `bun test --coverage`:
 * PROBE_MODE=idle starts the service, waits and stops it; PROBE_MODE=update does the same while
 * one /start update goes through the whole happy path (webhook → store → worker → bot → Bot API
 * sendMessage → done). The source lines only the second run executed are the update's path.
 *
 * It drives only main(argv, env), the env names and the HTTP contract, so it runs unchanged on
 * older trees (PROBE_ROOT). Not a test of the suite: its name does not match *.test.ts.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(process.env.PROBE_ROOT ?? ".");
const mode = process.env.PROBE_MODE === "update" ? "update" : "idle";
/** Both runs last this long after the service is ready, so timers fire the same number of times. */
const WINDOW_MS = 1500;

test(`one update's path (${mode})`, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tgwh-probe-"));
  const sent: string[] = [];
  const botApi = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const method = new URL(req.url).pathname.split("/").pop() ?? "";
      sent.push(method);
      const result =
        method === "getMe"
          ? { id: 123456, is_bot: true, first_name: "Probe", username: "probe_bot", can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false }
          : method === "sendMessage"
            ? { message_id: 2, date: 1, chat: { id: 42, type: "private" }, text: "ok" }
            : true;
      return Response.json({ ok: true, result });
    },
  });
  const free = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = free.port;
  free.stop(true);
  const base = `http://127.0.0.1:${port}`;
  const env = {
    TGWH_BOT_TOKEN: "123456:probe-token-for-the-update-path-script",
    TGWH_WEBHOOK_SECRET: "probe_secret",
    TGWH_DB: join(dir, "tgwh.db"),
    TGWH_LISTEN: `127.0.0.1:${port}`,
    TGWH_TELEGRAM_API: `http://127.0.0.1:${botApi.port}`,
    TGWH_LOG_LEVEL: "info",
    PATH: process.env.PATH,
  };
  const { main } = (await import(join(root, "src/main.ts"))) as { main: (argv: string[], env: Record<string, string | undefined>) => Promise<number> };
  const exited = main(["serve"], env);
  try {
    for (let i = 0; ; i++) {
      const ready = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
      if (ready) break;
      if (i > 200) throw new Error("the service did not become ready");
      await Bun.sleep(50);
    }
    const started = Date.now();
    if (mode === "update") {
      const update = {
        update_id: 1,
        message: {
          message_id: 1,
          date: Math.floor(Date.now() / 1000),
          chat: { id: 42, type: "private", first_name: "A" },
          from: { id: 42, is_bot: false, first_name: "A" },
          text: "/start",
          entities: [{ type: "bot_command", offset: 0, length: 6 }],
        },
      };
      const res = await fetch(`${base}/telegram/webhook`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": "probe_secret" },
        body: JSON.stringify(update),
      });
      expect(res.status).toBe(200);
      while (!sent.includes("sendMessage")) {
        if (Date.now() - started > 10_000) throw new Error("the update was not answered with sendMessage");
        await Bun.sleep(10);
      }
    }
    await Bun.sleep(Math.max(0, WINDOW_MS - (Date.now() - started)));
  } finally {
    process.emit("SIGTERM", "SIGTERM");
    await exited;
    botApi.stop(true);
    rmSync(dir, { recursive: true, force: true });
  }
  if (mode === "update") expect(sent).toContain("sendMessage");
}, 60_000);
