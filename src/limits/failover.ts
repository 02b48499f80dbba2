import { fallbackShare } from "./fallback-policy";
import { createTokenBucketLimiter, type RateLimiter } from "./rate-limiter";
import type { RedisLink } from "./redis-link";
import type { RedisSendLimiter } from "./redis-send-limiter";
import type { LocalSendLimiter, LocalSendPermit, SendLimiter, SendPermit } from "./send-limiter";

/**
 * The limiters the service uses when TGWH_REDIS_URL is set: Redis decides while the link is
 * shared; a failed decision is taken again locally at once (never lost, never waiting for
 * Redis), and every later one too until the link is back (redis-link.ts). A decision never
 * sends anything itself, so a timeout whose command Redis still ran only counts a send that did
 * not happen (conservative, never a send twice) until the handback forgets it. Every allowed
 * send is also kept in the local limiter until done: the fallback starts from it and the
 * handback gives it to a Redis that came back.
 */

export interface FailoverSendLimiter extends SendLimiter {
  /** Redis went away: the local limiter cannot see the others' sends, and takes its share. */
  fallBack(gateways: number | null): void;
  /** Redis is back: hand it what was sent meanwhile (and what a restarted Redis forgot). */
  handBack(): Promise<void>;
}

export function createFailoverSendLimiter(opts: { link: Pick<RedisLink, "shared" | "failed">; shared: RedisSendLimiter; local: LocalSendLimiter; perSecond: number }): FailoverSendLimiter {
  const { link, shared, local } = opts;
  /** Local permits in flight: their chat, and their member on Redis once handed back. */
  const inFlight = new Map<number, { chatId: number | string; member?: string }>();
  // A release that fails is forgotten on Redis at the next handback (redis-send-limiter.ts).
  const releaseShared = (chatId: number | string, member: string) => void shared.release(chatId, member).catch((err) => link.failed(err));
  /** Wraps a local permit: done() ends it locally, and on Redis too if it was handed back. */
  const tracked = (chatId: number | string, p: LocalSendPermit, sharedMember?: string): SendPermit => {
    inFlight.set(p.id, { chatId });
    return {
      at: p.at,
      done() {
        const t = inFlight.get(p.id);
        if (!t) return;
        inFlight.delete(p.id);
        p.done();
        if (sharedMember) releaseShared(chatId, sharedMember);
        if (t.member) releaseShared(chatId, t.member);
      },
    };
  };

  return {
    async acquire(chatId) {
      if (link.shared) {
        try {
          const d = await shared.acquire(chatId);
          if (!d.ok) return d;
          return { ok: true, ...tracked(chatId, local.start(chatId), d.member), at: d.at };
        } catch (err) {
          link.failed(err);
        }
      }
      const d = await local.acquire(chatId);
      return d.ok ? { ok: true, ...tracked(chatId, d) } : d;
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
    async handBack() {
      const handback = local.handback();
      const members = await shared.seed(handback);
      for (const f of handback.inFlight) {
        const member = members.get(f.id)!;
        const t = inFlight.get(f.id);
        if (t) t.member = member;
        else await shared.release(f.chatId, member); // answered while the seed was on its way
      }
    },
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
