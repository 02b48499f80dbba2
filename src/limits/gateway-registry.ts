import type { LimitKeys } from "./keys";
import { GATEWAY_TTL_MS } from "./fallback-policy";
import { LUA_CLOCK, luaScript, type RedisScripts } from "./redis-connection";

/**
 * The gateways sharing one Redis, as a sorted set (member = TGWH_INSTANCE_ID, score = last
 * heartbeat): how many there are sets each one's share when Redis goes away (fallback-policy.ts).
 * Answers the count and whether this gateway was missing from the set (a first beat, or the set
 * was lost: see redis-link.ts).
 *
 * The set is also how Redis tells that it lost the limits' state: while any gateway runs, its
 * beats keep the set. A gateway that was counted before and finds itself missing (ARGV[4] = 1)
 * means Redis restarted empty (or this gateway was away longer than the set keeps one): the
 * sends Redis forgot may have gone until now, so the beat sets the blind mark (keys.ts) in the
 * same step as it makes the set again; the send limiter sets it too when it finds no set at all
 * (redis-send-limiter.ts). KEYS: gateways, blind. ARGV: now, instance, ttl, counted before, blind ms.
 */
const HEARTBEAT = luaScript(
  "gateway_heartbeat",
  `${LUA_CLOCK}
local now = clock(ARGV[1])
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
local added = redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
if added == 1 and ARGV[4] == '1' and now > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], now, 'PX', tonumber(ARGV[5]))
end
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
  /**
   * Marks this gateway present; answers how many are. `countedBefore`: an earlier beat of this
   * process was answered (a missing member then means a lost set). Rejects when Redis fails.
   */
  heartbeat(countedBefore?: boolean): Promise<Heartbeat>;
  /** A clean stop: the others' share grows at once instead of after GATEWAY_TTL_MS. */
  leave(): Promise<void>;
}

export interface GatewayRegistryOptions {
  redis: RedisScripts;
  keys: LimitKeys;
  instanceId: string;
  /** How long a blind mark matters (send-rules.ts, blindSpanMs). */
  blindMs: number;
  clock?: () => number;
}

export function createGatewayRegistry(opts: GatewayRegistryOptions): GatewayRegistry {
  return {
    async heartbeat(countedBefore = false) {
      const now = opts.clock ? String(opts.clock()) : "";
      const args = [now, opts.instanceId, GATEWAY_TTL_MS, countedBefore ? 1 : 0, opts.blindMs];
      const [gateways, added] = (await opts.redis.run(HEARTBEAT, [opts.keys.gateways, opts.keys.blind], args)) as [number, number];
      return { gateways: Number(gateways), joined: Number(added) === 1 };
    },
    async leave() {
      await opts.redis.run(LEAVE, [opts.keys.gateways], [opts.instanceId]);
    },
  };
}
