/**
 * Rate limits of the auth routes (per IP, per Telegram user): token buckets keyed by a string.
 * The interface is async so the shared implementation (redis-rate-limiter.ts) and the failover
 * between the two (failover.ts) fit behind it; this file is the in-process one.
 */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  /** Takes one token from `key`'s bucket. */
  take(key: string): Promise<RateDecision>;
}

export interface TokenBucketOptions {
  /** Bucket size and refill per minute: a client may burst this many, then this many a minute. */
  perMinute: number;
  clock: () => number;
  /** Buckets kept before idle (full) ones are dropped; bounds memory under a spray of keys. */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Pure step: the bucket after refilling to `now` and trying to take one token. */
export function takeToken(bucket: Bucket | undefined, capacity: number, perMs: number, now: number): { bucket: Bucket; decision: RateDecision } {
  const tokens = bucket ? Math.min(capacity, bucket.tokens + Math.max(0, now - bucket.at) * perMs) : capacity;
  if (tokens >= 1) return { bucket: { tokens: tokens - 1, at: now }, decision: { allowed: true } };
  return { bucket: { tokens, at: now }, decision: { allowed: false, retryAfterSeconds: retryAfterSeconds((1 - tokens) / perMs) } };
}

/** A refusal's Retry-After: whole seconds, at least 1. */
export const retryAfterSeconds = (waitMs: number) => Math.max(1, Math.ceil(waitMs / 1000));

/** In-process token buckets, one per key. */
export function createTokenBucketLimiter(opts: TokenBucketOptions): RateLimiter {
  const capacity = Math.max(1, opts.perMinute);
  const perMs = capacity / 60_000;
  const maxKeys = opts.maxKeys ?? 100_000;
  const buckets = new Map<string, Bucket>();

  const sweep = (now: number) => {
    for (const [k, b] of buckets) if (b.tokens + (now - b.at) * perMs >= capacity) buckets.delete(k);
    // Still too many (a flood of distinct keys all within a minute): forget the oldest.
    for (const k of buckets.keys()) {
      if (buckets.size <= maxKeys) break;
      buckets.delete(k);
    }
  };

  return {
    async take(key) {
      const now = opts.clock();
      if (buckets.size >= maxKeys) sweep(now);
      const { bucket, decision } = takeToken(buckets.get(key), capacity, perMs, now);
      buckets.delete(key); // re-insert: Map order stays oldest-touched first
      buckets.set(key, bucket);
      return decision;
    },
  };
}
