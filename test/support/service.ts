/**
 * The real service in this process: createService on a real SQLite file in a temp dir, the
 * fake Bot API on loopback, and requests through `app.handle(new Request(…))` (no socket). For the
 * route tests in test/routes/; the compiled binary over HTTP is test/e2e/'s job.
 */
import { join } from "node:path";
import { createService, type Service } from "../../src/app";
import { loadConfig, type Config } from "../../src/config";
import { createLogger } from "../../src/log";
import { createServiceAccounts } from "../../src/operations/service-accounts";
import type { Role } from "../../src/store/states";
import { answerOf, type AdminResponse } from "./admin";
import { startFakeBotApi, type FakeBotApi } from "./fake-bot-api";
import { removeDir, TEST_BOT_TOKEN, TEST_SECRET, tempDir } from "./tgwh";

export type Answer = AdminResponse;

export interface TestService {
  service: Service;
  cfg: Config;
  api: FakeBotApi;
  /** One request through the Elysia app; `token` goes in as a bearer token, `body` as JSON. */
  call(method: string, path: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<Answer>;
  /** A new service account's bearer token (straight in the store: not audited). */
  token(role: Role, name?: string): Promise<string>;
  close(): Promise<void>;
}

let accounts = 0;

export async function startTestService(env: Record<string, string> = {}): Promise<TestService> {
  const dir = tempDir("tgwh-routes-");
  const api = startFakeBotApi();
  const cfg = loadConfig({
    TGWH_DB: join(dir, "tgwh.db"),
    TGWH_BOT_TOKEN: TEST_BOT_TOKEN,
    TGWH_WEBHOOK_SECRET: TEST_SECRET,
    TGWH_TELEGRAM_API: api.url,
    TGWH_PUBLIC_URL: "https://bot.example.com",
    TGWH_INSTANCE_ID: "routes-test",
    TGWH_SEND_PER_SECOND: "0",
    ...env,
  });
  const service = await createService(cfg, createLogger({ level: "silent", secrets: [] }));
  const rows = createServiceAccounts(service.store.accounts);
  return {
    service,
    cfg,
    api,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      if (opts.body !== undefined) headers["content-type"] ??= "application/json";
      const body = opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
      // What a client on a socket sends; a Request built here has none unless it is set.
      if (body !== undefined) headers["content-length"] ??= String(Buffer.byteLength(body));
      return answerOf(await service.http.handle(new Request(`http://127.0.0.1${path}`, { method, headers, body })));
    },
    async token(role, name = `t-${role}-${++accounts}`) {
      return (await rows.create(name, role)).token;
    },
    async close() {
      await service.stop(0);
      api.stop();
      removeDir(dir);
    },
  };
}
