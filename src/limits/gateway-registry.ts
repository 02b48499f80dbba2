import type { LimitKeys } from "./keys";
import { GATEWAY_TTL_MS } from "./fallback-policy";
import { LUA_CLOCK, luaScript, type RedisScripts } from "./redis-connection";

/**
 * The gateways sharing one Redis, as a sorted set (member = TGWH_INSTANCE_ID, score = last
 * heartbeat): how many there are sets each one's share when Redis goes away (fallback-policy.ts).
 * Answers the count and whether this gateway was missing from the set (a first beat, or the set
 * was lost: see redis-link.ts).
 */
const HEARTBEAT = luaScript(
  "gateway_heartbeat",
  `${LUA_CLOCK}
local now = clock(ARGV[1])
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
local added = redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
return {redis.call('ZCARD', KEYS[1]), added}
`,
);

const LEAVE = luaScript("gateway_leave", "return redis.call('ZREM', KEYS[1], ARGV[1])");

export interface Heartbeat {
  /** Gateways present, this one included. */
  gateways: number;
  /** This gateway was not in the set before this beat. */
  joined: boolean;
}

export interface GatewayRegistry {
  /** Marks this gateway present; answers how many are. Rejects when Redis fails. */
  heartbeat(): Promise<Heartbeat>;
  /** A clean stop: the others' share grows at once instead of after GATEWAY_TTL_MS. */
  leave(): Promise<void>;
}

export function createGatewayRegistry(opts: { redis: RedisScripts; keys: LimitKeys; instanceId: string; clock?: () => number }): GatewayRegistry {
  return {
    async heartbeat() {
      const now = opts.clock ? String(opts.clock()) : "";
      const [gateways, added] = (await opts.redis.run(HEARTBEAT, [opts.keys.gateways], [now, opts.instanceId, GATEWAY_TTL_MS])) as [number, number];
      return { gateways: Number(gateways), joined: Number(added) === 1 };
    },
    async leave() {
      await opts.redis.run(LEAVE, [opts.keys.gateways], [opts.instanceId]);
    },
  };
}
