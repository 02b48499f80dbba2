import { createService } from "../app";
import { checkServeConfig, secretsOf, type Config } from "../config";
import { devBanner, resolveDevSecrets, startDevBotApiIfNeeded } from "../dev/sandbox";
import { WEBHOOK_PATH } from "../telegram/webhook";
import { createLogger } from "../log";
import { errorResponse } from "../http-error";
import { guardedRoutes, refuseUnseen } from "../path-guard";
import { limitsStartupWarnings } from "../limits/create-limits";
import { notePeerAddress } from "../peer-address";
import { VERSION } from "../version";

/** Bodies above this are refused by Bun itself; each route enforces its own, smaller cap. */
const MAX_REQUEST_BODY = 8 * 1024 * 1024;

/** `tgwh serve`: the service. Resolves with the exit code after a graceful stop. */
export async function serve(baseCfg: Config): Promise<number> {
  const baseWithSecrets = await resolveDevSecrets(baseCfg);
  checkServeConfig(baseWithSecrets);
  const log = createLogger({ level: baseWithSecrets.logLevel, secrets: secretsOf(baseWithSecrets) });
  const devApi = startDevBotApiIfNeeded(baseWithSecrets, log);
  // In the sandbox every Bot API caller (worker, admin webhook routes) talks to the stand-in.
  const cfg: Config = devApi ? { ...baseWithSecrets, telegramApi: devApi.apiRoot } : baseWithSecrets;
  if (cfg.initDataMaxAge === 0) log.warn("TGWH_INIT_DATA_MAX_AGE=0: initData freshness is not checked; a leaked initData stays valid forever");
  if (cfg.synchronous === "NORMAL" && !cfg.databaseUrl) log.warn("TGWH_SQLITE_SYNCHRONOUS=NORMAL: a power loss can lose the last acknowledged updates");

  for (const w of limitsStartupWarnings({ redisUrl: cfg.redisUrl, sharedStore: cfg.databaseUrl !== null })) log.warn(w);

  const service = await createService(cfg, log, { checkpointThread: true });
  const { handleWebhook, http } = service;
  const server = Bun.serve({
    hostname: cfg.listen.hostname,
    port: cfg.listen.port,
    maxRequestBodySize: MAX_REQUEST_BODY,
    routes: {
      // Every raw path is checked before Elysia routes it (path-guard.ts: `\`, dot segments).
      ...guardedRoutes((req, srv) => {
        notePeerAddress(req, srv.requestIP(req)?.address);
        return http.fetch(req);
      }),
      // The hot path skips Elysia's router and hooks (see docs/performance.md): the same handler
      // function, so the same answers; Elysia still serves other methods on this path. An exact
      // route only matches the plain raw path, so it needs no check.
      [WEBHOOK_PATH]: { POST: handleWebhook },
    },
    // The routes above take every path; what reaches here has a raw form nobody checked.
    fetch: refuseUnseen,
    error: (err) => {
      log.error({ err }, "request failed before routing");
      return errorResponse(500, "internal error");
    },
  });
  const baseUrl = `http://${cfg.listen.hostname.includes(":") ? `[${cfg.listen.hostname}]` : cfg.listen.hostname}:${server.port}`;
  log.info({ listen: baseUrl, db: service.store.location, instance: cfg.instanceId, version: VERSION, dev: cfg.dev, pid: process.pid }, "tgwh listening");
  if (cfg.dev) process.stderr.write(devBanner(cfg, baseUrl));

  let stopping = false;
  service.start();

  return await new Promise<number>((resolve) => {
    const shutdown = async (signal: string) => {
      if (stopping) {
        log.warn({ signal }, "second signal: exiting now");
        log.flush();
        process.exit(1);
      }
      stopping = true;
      log.info({ signal, graceSeconds: cfg.shutdownSeconds }, "stopping: no new requests, finishing running jobs");
      // Stop listening, let in-flight requests finish (their commits are queued), then close
      // idle keep-alive connections, which would otherwise hold the stop open.
      void server.stop(false);
      const until = Date.now() + 5000;
      while (server.pendingRequests > 0 && Date.now() < until) await Bun.sleep(10);
      await server.stop(true);
      const res = await service.stop(cfg.shutdownSeconds * 1000);
      devApi?.stop();
      log.info(res, "stopped");
      log.flush();
      resolve(0);
    };
    process.on("SIGTERM", () => void shutdown("SIGTERM"));
    process.on("SIGINT", () => void shutdown("SIGINT"));
  });
}
