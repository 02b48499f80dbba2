import { fallbackShare } from "./fallback-policy";
import { createTokenBucketLimiter, type RateLimiter } from "./rate-limiter";
import type { RedisLink } from "./redis-link";
import type { RedisSendLimiter } from "./redis-send-limiter";
import type { LocalSendLimiter, SendLimiter } from "./send-limiter";

/**
 * The limiters the service uses when TGWH_REDIS_URL is set: Redis decides while the link is
 * shared; a failed decision is taken again locally at once (never lost, never waiting for
 * Redis), and every later one too until the link is back (redis-link.ts). A decision never
 * sends anything itself, so a timeout whose command Redis still ran only counts a send that did
 * not happen: conservative, never a send twice.
 */

export interface FailoverSendLimiter extends SendLimiter {
  /** Redis went away: the local limiter cannot see the others' sends, and takes its share. */
  fallBack(gateways: number | null): void;
  /** Redis is back: hand it what was sent meanwhile (and what a restarted Redis forgot). */
  handBack(): Promise<void>;
}

export function createFailoverSendLimiter(opts: { link: Pick<RedisLink, "shared" | "failed">; shared: RedisSendLimiter; local: LocalSendLimiter; perSecond: number }): FailoverSendLimiter {
  const { link, shared, local } = opts;
  return {
    async acquire(chatId) {
      if (link.shared) {
        try {
          const d = await shared.acquire(chatId);
          // The local copy of every send is what handBack gives a restarted Redis, and what the
          // fallback starts from.
          if (d.ok) local.record(chatId);
          return d;
        } catch (err) {
          link.failed(err);
        }
      }
      return local.acquire(chatId);
    },
    async hold(chatId, retryAfterMs) {
      await local.hold(chatId, retryAfterMs);
      if (!link.shared) return;
      try {
        await shared.hold(chatId, retryAfterMs);
      } catch (err) {
        link.failed(err);
      }
    },
    fallBack(gateways) {
      local.blind();
      local.setCap(fallbackShare(opts.perSecond, gateways));
    },
    handBack: () => shared.seed(local.handback()),
  };
}

export interface FailoverRateLimiter extends RateLimiter {
  fallBack(gateways: number | null): void;
}

/** Auth buckets: Redis while shared; fresh local buckets with this gateway's share otherwise. */
export function createFailoverRateLimiter(opts: { link: Pick<RedisLink, "shared" | "failed">; shared: RateLimiter; perMinute: number; clock: () => number }): FailoverRateLimiter {
  const { link, shared } = opts;
  let local = createTokenBucketLimiter({ perMinute: fallbackShare(opts.perMinute, null), clock: opts.clock });
  return {
    async take(key) {
      if (link.shared) {
        try {
          return await shared.take(key);
        } catch (err) {
          link.failed(err);
        }
      }
      return local.take(key);
    },
    fallBack(gateways) {
      local = createTokenBucketLimiter({ perMinute: fallbackShare(opts.perMinute, gateways), clock: opts.clock });
    },
  };
}
