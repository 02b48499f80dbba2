import type { LimitKeys } from "./keys";
import { retryAfterSeconds, type RateDecision, type RateLimiter } from "./rate-limiter";
import { LUA_CLOCK, luaScript, type RedisScripts } from "./redis-connection";

/**
 * The auth token buckets of rate-limiter.ts (takeToken) as one Lua script per take, shared by
 * every gateway: a client spreading its sign-ins over several gateways gets one budget. The
 * bucket (a hash: tokens, at) expires when it would be full again, which is the same as not
 * existing, so a spray of addresses leaves nothing behind. Time: Redis TIME (see
 * redis-send-limiter.ts), or the caller's in tests.
 */
export const TAKE = luaScript(
  "auth_take",
  `${LUA_CLOCK}
local now = clock(ARGV[1])
local cap, perMs = tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = cap
if b[1] then tokens = math.min(cap, tonumber(b[1]) + math.max(0, now - tonumber(b[2])) * perMs) end
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
local toFull = math.ceil((cap - tokens) / perMs)
if toFull < 1 then toFull = 1 end
redis.call('PEXPIRE', KEYS[1], toFull)
if allowed == 1 then return {1, 0} end
return {0, math.ceil((1 - tokens) / perMs)}
`,
);

export interface RedisRateLimiterOptions {
  redis: RedisScripts;
  keys: LimitKeys;
  perMinute: number;
  /** Tests only: decide on this clock instead of Redis TIME. */
  clock?: () => number;
}

/** Rejects when Redis fails (the failover takes the token locally then). */
export function createRedisRateLimiter(opts: RedisRateLimiterOptions): RateLimiter {
  const capacity = Math.max(1, opts.perMinute);
  const perMs = String(capacity / 60_000);
  return {
    async take(key): Promise<RateDecision> {
      const now = opts.clock ? String(opts.clock()) : "";
      const reply = (await opts.redis.run(TAKE, [opts.keys.bucket(key)], [now, capacity, perMs])) as [number, number];
      return Number(reply[0]) === 1 ? { allowed: true } : { allowed: false, retryAfterSeconds: retryAfterSeconds(Number(reply[1])) };
    },
  };
}
