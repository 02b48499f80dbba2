import type { LimitKeys } from "./keys";
import { LUA_CLOCK, luaScript, type LuaScript, type RedisScripts } from "./redis-connection";
import type { SendHandback, SendLimiter, SendPermit } from "./send-limiter";
import { blindSpanMs, intervalFor, isGroupChat, type LimitScope, type SendRules } from "./send-rules";

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
 * one window after the last of its sends was answered (or its lease ended), the hold when it ends,
 * the blind mark when no chat or window reaches back to it any more.
 */

/** Lua helpers: raise a key's next-allowed time; lengthen a key's TTL, never shorten it (other gateways' sends are in it). */
const LUA_HELPERS = `
local function raise(key, now, ms)
  if ms <= 0 then return end
  local u = now + ms
  if u > tonumber(redis.call('GET', key) or '0') then redis.call('SET', key, u, 'PX', ms) end
end
local function extend(key, ms)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end
`;

/**
 * decideSend + startSend of send-rules.ts. KEYS: chat, global, hold, blind, gateways.
 * The global window is a sorted set of sends: one in flight is scored with the end of its
 * lease (decision + maxInFlightMs, so it fills a slot until RELEASE or, if that never comes,
 * until then), an answered one with its answer time.
 *
 * The blind mark (keys.ts) is SendState.blindUntil shared: Redis lost its state, so sends it
 * forgot may have gone until then; each chat waits one interval from it, the global window one
 * window. With ARGV[8] = 1 (the service; heartbeats keep the gateway set) a missing gateway set
 * means the state was lost just now, say by a restart between two heartbeats: the decision sets
 * the mark itself (for ARGV[9] ms), so no gateway decides on an empty Redis as if nothing had
 * been sent.
 */
export const ACQUIRE = luaScript(
  "send_acquire",
  `${LUA_CLOCK}${LUA_HELPERS}
local now = clock(ARGV[1])
local interval, cap, window, inFlightMs = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[7])
local wait, scope = 0, ''
local hold = tonumber(redis.call('GET', KEYS[3]) or '0')
if hold - now > wait then wait = hold - now; scope = 'hold' end
local blind = tonumber(redis.call('GET', KEYS[4]) or '0')
if blind == 0 and ARGV[8] == '1' and redis.call('EXISTS', KEYS[5]) == 0 then
  blind = now
  redis.call('SET', KEYS[4], now, 'PX', tonumber(ARGV[9]))
end
local nextAt = tonumber(redis.call('GET', KEYS[1]) or '0')
if blind > 0 and blind + interval > nextAt then nextAt = blind + interval end
if nextAt - now > wait then wait = nextAt - now; scope = ARGV[6] end
if cap > 0 then
  if blind > 0 and blind + window - now > wait then wait = blind + window - now; scope = 'global' end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
  local n = redis.call('ZCARD', KEYS[2])
  if n >= cap then
    local e = redis.call('ZRANGE', KEYS[2], n - cap, n - cap, 'WITHSCORES')
    local w = math.min(tonumber(e[2]), now) + window - now
    if w > wait then wait = w; scope = 'global' end
  end
end
if wait > 0 then return {0, math.ceil(wait), scope} end
raise(KEYS[1], now, interval)
if cap > 0 then
  redis.call('ZADD', KEYS[2], now + inFlightMs, ARGV[5])
  extend(KEYS[2], inFlightMs + window)
end
return {1, now}
`,
);

/**
 * finishSend: the send's answer came back; it now counts as a send of this moment, and its chat
 * waits one interval from here. KEYS: chat, global. ARGV: now, member, interval, window, cap.
 */
export const RELEASE = luaScript(
  "send_release",
  `${LUA_CLOCK}${LUA_HELPERS}
local now = clock(ARGV[1])
local window = tonumber(ARGV[4])
raise(KEYS[1], now, tonumber(ARGV[3]))
if tonumber(ARGV[5]) > 0 then
  redis.call('ZADD', KEYS[2], now, ARGV[2])
  extend(KEYS[2], window)
end
return 1
`,
);

/** holdSends: raises a chat's (or the bot's) next-allowed time. KEYS: chat or hold. */
export const HOLD = luaScript(
  "send_hold",
  `${LUA_CLOCK}${LUA_HELPERS}
local now = clock(ARGV[1])
raise(KEYS[1], now, tonumber(ARGV[2]))
return 1
`,
);

/**
 * Hands a local limiter's recent sends and holds to Redis (times relative to now, so the
 * gateway's clock does not matter). KEYS: global, hold, chat…
 * ARGV: now, window, holdMs, member prefix, maxInFlightMs, n, n answered ages,
 * m, m (permit id, age) pairs of sends in flight, then one wait per chat key.
 */
export const SEED = luaScript(
  "send_seed",
  `${LUA_CLOCK}${LUA_HELPERS}
local now = clock(ARGV[1])
local window, prefix, inFlightMs = tonumber(ARGV[2]), ARGV[4], tonumber(ARGV[5])
raise(KEYS[2], now, tonumber(ARGV[3]))
local n = tonumber(ARGV[6])
for i = 1, n do
  local at = now - tonumber(ARGV[6 + i])
  if at > now - window then redis.call('ZADD', KEYS[1], 'NX', at, prefix .. i) end
end
local m = tonumber(ARGV[7 + n])
for j = 1, m do
  local id, age = ARGV[6 + n + 2 * j], tonumber(ARGV[7 + n + 2 * j])
  redis.call('ZADD', KEYS[1], 'NX', now - age + inFlightMs, prefix .. 'f' .. id)
end
if n + m > 0 then extend(KEYS[1], (m > 0 and inFlightMs or 0) + window) end
local c = 8 + n + 2 * m
for k = 3, #KEYS do raise(KEYS[k], now, tonumber(ARGV[c + k - 3])) end
return 1
`,
);

/** An allowed send on Redis: member names it in the global window (for release). */
export type RedisSendGrant = ({ ok: true; member: string } & SendPermit) | { ok: false; waitMs: number; scope: LimitScope };

/**
 * Drops sends from the global window: ones whose ACQUIRE or RELEASE failed on our side (a
 * timeout Redis may still have run). The handback that follows counts them as the local copy
 * saw them; without this an unanswered ACQUIRE would fill a slot until its lease ran out.
 * KEYS: global. ARGV: members.
 */
export const FORGET = luaScript("send_forget", "return redis.call('ZREM', KEYS[1], unpack(ARGV))");

/** Members of failed calls kept for FORGET; beyond this, the oldest are left to their lease. */
const MAX_UNSURE = 1000;

export interface RedisSendLimiter extends SendLimiter {
  /** acquire, but rejects when Redis fails (the failover decides locally then). */
  acquire(chatId: number | string): Promise<RedisSendGrant>;
  /** The send of `member` was answered (what its permit's done() does); rejects when Redis fails. */
  release(chatId: number | string, member: string): Promise<void>;
  /**
   * Adds what a local limiter saw to the shared state (see SendHandback). Answers the member each
   * in-flight send got, by local permit id: releasing it there frees its slot for every gateway.
   */
  seed(handback: SendHandback): Promise<Map<number, string>>;
}

export interface RedisSendLimiterOptions {
  redis: RedisScripts;
  keys: LimitKeys;
  rules: SendRules;
  /** Makes each send's entry in the global window unique across gateways. */
  instanceId: string;
  /**
   * A missing gateway set means Redis lost its state: decide blind (see ACQUIRE). Only where
   * heartbeats keep the set (the service, createLimits); a bare limiter has no set to miss.
   */
  detectLostState?: boolean;
  /** Tests only: decide on this clock instead of Redis TIME. */
  clock?: () => number;
  /** A permit's done() could not release on Redis (the failover passes its link's failed). */
  onReleaseError?: (err: unknown) => void;
}

export function createRedisSendLimiter(opts: RedisSendLimiterOptions): RedisSendLimiter {
  const { redis, keys, rules } = opts;
  const now = () => (opts.clock ? String(opts.clock()) : "");
  let counter = 0;
  const member = () => `${opts.instanceId}:${process.pid}:${++counter}`;
  /** Members whose ACQUIRE or RELEASE failed: Redis may or may not have run it (FORGET). */
  let unsure: string[] = [];
  const run = async (script: LuaScript, keyList: string[], args: (string | number)[], m: string) => {
    try {
      return await redis.run(script, keyList, args);
    } catch (err) {
      if (rules.perSecond > 0) unsure.push(m);
      if (unsure.length > MAX_UNSURE) unsure.splice(0, unsure.length - MAX_UNSURE);
      throw err;
    }
  };
  const release = async (chatId: number | string, m: string) => {
    await run(RELEASE, [keys.chat(chatId), keys.global], [now(), m, intervalFor(chatId, rules), rules.globalWindowMs, rules.perSecond], m);
  };

  return {
    async acquire(chatId) {
      const chatScope: LimitScope = isGroupChat(chatId) ? "group" : "chat";
      const m = member();
      const reply = (await run(ACQUIRE, [keys.chat(chatId), keys.global, keys.hold, keys.blind, keys.gateways], [now(), intervalFor(chatId, rules), rules.perSecond, rules.globalWindowMs, m, chatScope, rules.maxInFlightMs, opts.detectLostState ? 1 : 0, blindSpanMs(rules)], m)) as [number, number, string?];
      if (Number(reply[0]) !== 1) return { ok: false, waitMs: Number(reply[1]), scope: (reply[2] as LimitScope) ?? chatScope };
      let done = false;
      return {
        ok: true,
        at: Number(reply[1]),
        member: m,
        done() {
          if (done) return;
          done = true;
          release(chatId, m).catch((err) => opts.onReleaseError?.(err));
        },
      };
    },
    release,
    async hold(chatId, retryAfterMs) {
      const ms = Math.max(1, Math.ceil(retryAfterMs));
      await redis.run(HOLD, [chatId === null ? keys.hold : keys.chat(chatId)], [now(), ms]);
    },
    async seed(h) {
      if (unsure.length > 0) {
        const forget = unsure;
        unsure = [];
        await redis.run(FORGET, [keys.global], forget).catch((err) => {
          unsure = [...forget, ...unsure];
          throw err;
        });
      }
      const members = new Map<number, string>();
      if (h.chats.length === 0 && h.sendAgesMs.length === 0 && h.inFlight.length === 0 && h.holdMs <= 0) return members;
      const prefix = `${member()}:seed:`;
      for (const f of h.inFlight) members.set(f.id, `${prefix}f${f.id}`);
      await redis.run(
        SEED,
        [keys.global, keys.hold, ...h.chats.map((c) => keys.chat(c.chatId))],
        [
          now(), rules.globalWindowMs, Math.ceil(h.holdMs), prefix, rules.maxInFlightMs,
          h.sendAgesMs.length, ...h.sendAgesMs.map(Math.floor),
          h.inFlight.length, ...h.inFlight.flatMap((f) => [f.id, Math.floor(f.ageMs)]),
          ...h.chats.map((c) => Math.ceil(c.waitMs)),
        ],
      );
      return members;
    },
  };
}
