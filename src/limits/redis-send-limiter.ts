import type { LimitKeys } from "./keys";
import { LUA_CLOCK, luaScript, type RedisScripts } from "./redis-connection";
import type { SendHandback, SendLimiter } from "./send-limiter";
import { intervalFor, isGroupChat, type LimitScope, type SendDecision, type SendRules } from "./send-rules";

/**
 * The send rules of send-rules.ts as one Lua script per decision, so every gateway on one Redis
 * shares them: a script runs atomically, so N gateways together never exceed the global cap,
 * a chat's interval or a hold.
 *
 * Time: Redis TIME, one clock for every gateway, so gateways whose clocks disagree still share
 * the same windows (no skew to reason about). Tests pass their fake clock's time instead (the
 * `now` argument); the service never does.
 *
 * Keys expire with their meaning: a chat key when its next send is allowed, the global window
 * one window after its last send, the hold when it ends.
 */

/** decideSend + recordSend of send-rules.ts. KEYS: chat, global, hold. */
export const ACQUIRE = luaScript(
  "send_acquire",
  `${LUA_CLOCK}
local now = clock(ARGV[1])
local interval, cap, window = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local wait, scope = 0, ''
local hold = tonumber(redis.call('GET', KEYS[3]) or '0')
if hold - now > wait then wait = hold - now; scope = 'hold' end
local nextAt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nextAt - now > wait then wait = nextAt - now; scope = ARGV[6] end
if cap > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
  local n = redis.call('ZCARD', KEYS[2])
  if n >= cap then
    local oldest = redis.call('ZRANGE', KEYS[2], n - cap, n - cap, 'WITHSCORES')
    local w = tonumber(oldest[2]) + window - now
    if w > wait then wait = w; scope = 'global' end
  end
end
if wait > 0 then return {0, math.ceil(wait), scope} end
redis.call('SET', KEYS[1], now + interval, 'PX', interval)
if cap > 0 then
  redis.call('ZADD', KEYS[2], now, ARGV[5])
  redis.call('PEXPIRE', KEYS[2], window)
end
return {1, now}
`,
);

/** holdSends: raises a chat's (or the bot's) next-allowed time. KEYS: chat or hold. */
export const HOLD = luaScript(
  "send_hold",
  `${LUA_CLOCK}
local now = clock(ARGV[1])
local ms = tonumber(ARGV[2])
local untilAt = now + ms
if untilAt > tonumber(redis.call('GET', KEYS[1]) or '0') then redis.call('SET', KEYS[1], untilAt, 'PX', ms) end
return untilAt
`,
);

/**
 * Hands a local limiter's recent sends and holds to Redis (times relative to now, so the
 * gateway's clock does not matter). KEYS: global, hold, chat…
 * ARGV: now, window, holdMs, member prefix, n, n send ages, then one wait per chat key.
 */
export const SEED = luaScript(
  "send_seed",
  `${LUA_CLOCK}
local now = clock(ARGV[1])
local window = tonumber(ARGV[2])
local function raise(key, ms)
  if ms <= 0 then return end
  local u = now + ms
  if u > tonumber(redis.call('GET', key) or '0') then redis.call('SET', key, u, 'PX', ms) end
end
raise(KEYS[2], tonumber(ARGV[3]))
local n = tonumber(ARGV[5])
for i = 1, n do
  local at = now - tonumber(ARGV[5 + i])
  if at > now - window then redis.call('ZADD', KEYS[1], 'NX', at, ARGV[4] .. i) end
end
if n > 0 then redis.call('PEXPIRE', KEYS[1], window) end
for k = 3, #KEYS do raise(KEYS[k], tonumber(ARGV[5 + n + k - 2])) end
return 1
`,
);

export interface RedisSendLimiter extends SendLimiter {
  /** acquire, but rejects when Redis fails (the failover decides locally then). */
  acquire(chatId: number | string): Promise<SendDecision>;
  /** Adds what a local limiter saw to the shared state (see SendHandback). */
  seed(handback: SendHandback): Promise<void>;
}

export interface RedisSendLimiterOptions {
  redis: RedisScripts;
  keys: LimitKeys;
  rules: SendRules;
  /** Makes each send's entry in the global window unique across gateways. */
  instanceId: string;
  /** Tests only: decide on this clock instead of Redis TIME. */
  clock?: () => number;
}

export function createRedisSendLimiter(opts: RedisSendLimiterOptions): RedisSendLimiter {
  const { redis, keys, rules } = opts;
  const now = () => (opts.clock ? String(opts.clock()) : "");
  let counter = 0;
  const member = () => `${opts.instanceId}:${process.pid}:${++counter}`;

  return {
    async acquire(chatId) {
      const chatScope: LimitScope = isGroupChat(chatId) ? "group" : "chat";
      const reply = (await redis.run(ACQUIRE, [keys.chat(chatId), keys.global, keys.hold], [now(), intervalFor(chatId, rules), rules.perSecond, rules.globalWindowMs, member(), chatScope])) as [number, number, string?];
      if (Number(reply[0]) === 1) return { ok: true, at: Number(reply[1]) };
      return { ok: false, waitMs: Number(reply[1]), scope: (reply[2] as LimitScope) ?? chatScope };
    },
    async hold(chatId, retryAfterMs) {
      const ms = Math.max(1, Math.ceil(retryAfterMs));
      await redis.run(HOLD, [chatId === null ? keys.hold : keys.chat(chatId)], [now(), ms]);
    },
    async seed(h) {
      if (h.chats.length === 0 && h.sendAgesMs.length === 0 && h.holdMs <= 0) return;
      await redis.run(
        SEED,
        [keys.global, keys.hold, ...h.chats.map((c) => keys.chat(c.chatId))],
        [now(), rules.globalWindowMs, Math.ceil(h.holdMs), `${member()}:seed:`, h.sendAgesMs.length, ...h.sendAgesMs.map(Math.floor), ...h.chats.map((c) => Math.ceil(c.waitMs))],
      );
    },
  };
}
