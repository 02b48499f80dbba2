import type { Registry } from "prom-client";
import type { Logger } from "../log";
import { createFailoverRateLimiter, createFailoverSendLimiter } from "./failover";
import { createGatewayRegistry } from "./gateway-registry";
import { limitKeys } from "./keys";
import { createLimitsMetrics } from "./metrics";
import { createTokenBucketLimiter, type RateLimiter } from "./rate-limiter";
import { createRedisConnection, type RedisScripts } from "./redis-connection";
import { createRedisLink, linkReadiness } from "./redis-link";
import { createRedisRateLimiter } from "./redis-rate-limiter";
import { createRedisSendLimiter } from "./redis-send-limiter";
import { createLocalSendLimiter, type SendLimiter } from "./send-limiter";
import { blindSpanMs, sendRules } from "./send-rules";

/** Every limit the service applies: Telegram's send rules and the auth rate limits. */
export interface Limits {
  send: SendLimiter;
  authIp: RateLimiter;
  authUser: RateLimiter;
  /** The readiness line about sharing (always ok); null without TGWH_REDIS_URL. */
  readiness(): { name: string; ok: boolean; detail?: string } | null;
  /** Connects to Redis and starts heartbeats (nothing without Redis). */
  start(): void;
  stop(): Promise<void>;
}

export interface LimitsConfig {
  redisUrl: string | null;
  instanceId: string;
  sendPerSecond: number;
  authRatePerIp: number;
  authRatePerUser: number;
  /** Key namespace in Redis: the bot's id (keys.ts). */
  namespace: string;
  /** Longest a Bot API call can take (its timeout, plus a margin): how long a send without an answer holds its slot. */
  sendTimeoutMs?: number;
}

export interface LimitsDeps {
  registry: Registry;
  log: Logger;
  clock: () => number;
  /** Tests: an existing connection instead of one to cfg.redisUrl. */
  redis?: RedisScripts;
}

export function createLimits(cfg: LimitsConfig, deps: LimitsDeps): Limits {
  const { clock } = deps;
  const rules = sendRules(cfg.sendPerSecond, cfg.sendTimeoutMs);
  // Without Redis, sends before a restart are unknown: start blind (see send-limiter.ts).
  const local = createLocalSendLimiter({ rules, clock, blindAtStart: true });
  if (!cfg.redisUrl && !deps.redis) {
    return {
      send: local,
      authIp: createTokenBucketLimiter({ perMinute: cfg.authRatePerIp, clock }),
      authUser: createTokenBucketLimiter({ perMinute: cfg.authRatePerUser, clock }),
      readiness: () => null,
      start() {},
      async stop() {},
    };
  }

  const redis = deps.redis ?? createRedisConnection({ url: cfg.redisUrl! });
  const keys = limitKeys(cfg.namespace);
  const metrics = createLimitsMetrics(deps.registry);
  const log = deps.log.child({ component: "limits" });
  const shared = createRedisSendLimiter({ redis, keys, rules, instanceId: cfg.instanceId, detectLostState: true });
  // The link is built first: the limiters read its state; its callbacks reach them once it runs.
  const limiters: { send?: ReturnType<typeof createFailoverSendLimiter>; ip?: ReturnType<typeof createFailoverRateLimiter>; user?: ReturnType<typeof createFailoverRateLimiter> } = {};
  const link = createRedisLink({
    registry: createGatewayRegistry({ redis, keys, instanceId: cfg.instanceId, blindMs: blindSpanMs(rules) }),
    metrics,
    log,
    clock,
    onFallback(gateways) {
      limiters.send?.fallBack(gateways);
      limiters.ip?.fallBack(gateways);
      limiters.user?.fallBack(gateways);
    },
    onShared: async () => limiters.send?.handBack(),
  });
  limiters.send = createFailoverSendLimiter({ link, shared, local, perSecond: cfg.sendPerSecond });
  limiters.ip = createFailoverRateLimiter({ link, shared: createRedisRateLimiter({ redis, keys, perMinute: cfg.authRatePerIp }), perMinute: cfg.authRatePerIp, clock });
  limiters.user = createFailoverRateLimiter({ link, shared: createRedisRateLimiter({ redis, keys, perMinute: cfg.authRatePerUser }), perMinute: cfg.authRatePerUser, clock });
  limiters.send.fallBack(null);

  return {
    send: limiters.send,
    authIp: limiters.ip,
    authUser: limiters.user,
    readiness: () => linkReadiness(link.status(), cfg.sendPerSecond, clock()),
    start: () => link.start(),
    async stop() {
      await link.stop();
      if (!deps.redis) redis.close();
    },
  };
}

/**
 * Start-up warnings about limits. `sharedStore`: the job store is shared by several gateways
 * (PostgreSQL, TGWH_DATABASE_URL), so limits kept in one process no longer hold for the bot.
 */
export function limitsStartupWarnings(opts: { redisUrl: string | null; sharedStore: boolean }): string[] {
  if (opts.sharedStore && !opts.redisUrl) {
    return ["TGWH_DATABASE_URL is set but TGWH_REDIS_URL is not: each gateway applies Telegram's send limits and the auth limits alone, so N gateways together may send N times 30 messages/s (set TGWH_REDIS_URL to share them)"];
  }
  return [];
}
