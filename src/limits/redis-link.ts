import type { Logger } from "../log";
import { countAfterHeartbeat, fallbackShare, HEARTBEAT_MS, probeDelayMs, unknownGatewayCount } from "./fallback-policy";
import type { GatewayRegistry } from "./gateway-registry";
import type { LimitsMetrics } from "./metrics";

/**
 * Whether limit decisions go to Redis now, and the way back when they cannot. Shared while
 * Redis answers; the first failure (a decision or a heartbeat) switches every limiter to its
 * local fallback at once, and probes with backoff bring it back. Transitions are logged once
 * each; failures in between only count (tgwh_limits_redis_errors_total), so an outage does not
 * flood the log.
 */
export interface RedisLink {
  /** Decisions go to Redis (else: locally, with the fallback share). */
  readonly shared: boolean;
  /** A decision on Redis failed: fall back now and probe. */
  failed(err: unknown): void;
  status(): RedisLinkStatus;
  start(): void;
  /** Stops probing and heartbeats and leaves the gateway set (best effort). */
  stop(): Promise<void>;
}

export interface RedisLinkStatus {
  shared: boolean;
  /** When the current state began. */
  since: number;
  /** Gateways seen at the last heartbeat (countAfterHeartbeat); null if Redis was never reached. */
  gateways: number | null;
  lastError: string | null;
}

export interface RedisLinkOptions {
  registry: GatewayRegistry;
  metrics: LimitsMetrics;
  log: Logger;
  clock: () => number;
  /** Falling back: take `gateways`' share of each budget (fallbackShare). */
  onFallback(gateways: number | null): void;
  /** Redis answers again: hand over what was decided locally meanwhile. A rejection keeps the fallback. */
  onShared(): Promise<void>;
  random?: () => number;
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function createRedisLink(opts: RedisLinkOptions): RedisLink {
  const { log, metrics, clock } = opts;
  let shared = false;
  let since = clock();
  let count = unknownGatewayCount();
  let lastError: string | null = null;
  /** An outage was logged and its end is not yet. */
  let outageLogged = false;
  let attempt = 0;
  let running = false;
  let inFlight = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  metrics.shared.set(0);

  const schedule = (ms: number) => {
    if (!running) return;
    clearTimeout(timer);
    timer = setTimeout(() => void tick(), ms);
  };

  function fallBack(err: unknown) {
    lastError = messageOf(err);
    if (!shared) return;
    shared = false;
    since = clock();
    metrics.shared.set(0);
    opts.onFallback(count.gateways);
    outageLogged = true;
    log.warn(
      { err: lastError, gateways: count.gateways },
      "Redis unreachable: each gateway now limits alone with its share of the send and auth limits, until Redis answers again",
    );
  }

  async function tick() {
    if (inFlight || !running) return;
    inFlight = true;
    try {
      const countedBefore = count.gateways !== null;
      const beat = await opts.registry.heartbeat(countedBefore);
      count = countAfterHeartbeat(count, beat, clock());
      const n = count.gateways!;
      metrics.gateways.set(n);
      // Shared, yet missing from the set: Redis lost its state (a restart no command of ours saw).
      // The beat marked it blind for every gateway (gateway-registry.ts); falling back until the
      // next probe also hands this gateway's holds and chat waits to the new state.
      if (shared && beat.joined) throw new Error("Redis lost the shared limits (restarted empty?)");
      if (!shared) {
        await opts.onShared();
        const downMs = clock() - since;
        shared = true;
        since = clock();
        metrics.shared.set(1);
        if (outageLogged) log.info({ gateways: n, afterSeconds: Math.round(downMs / 1000) }, "Redis answers again: send and auth limits are shared again");
        else log.info({ gateways: n }, "send and auth limits shared through Redis");
        outageLogged = false;
      }
      attempt = 0;
      schedule(HEARTBEAT_MS);
    } catch (err) {
      metrics.redisErrors.inc();
      if (shared) fallBack(err);
      else {
        lastError = messageOf(err);
        if (!outageLogged) {
          outageLogged = true;
          log.warn({ err: lastError, assumedGateways: count.gateways ?? undefined }, "Redis unreachable: limiting alone with a conservative share of the send and auth limits until it answers");
        }
      }
      schedule(probeDelayMs(attempt++, opts.random));
    } finally {
      inFlight = false;
    }
  }

  // Until Redis first answers, each limiter is in its fallback: blind to the others, with a share.
  opts.onFallback(null);

  return {
    get shared() {
      return shared;
    },
    failed(err) {
      metrics.redisErrors.inc();
      if (!shared) return;
      fallBack(err);
      attempt = 0;
      schedule(probeDelayMs(attempt++, opts.random));
    },
    status: () => ({ shared, since, gateways: count.gateways, lastError }),
    start() {
      if (running) return;
      running = true;
      schedule(0);
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      if (shared) await opts.registry.leave().catch(() => {});
    },
  };
}

/** The readiness line: always ok (sending goes on either way), with what is shared and what is not. */
export function linkReadiness(s: RedisLinkStatus, sendPerSecond: number, now: number): { name: string; ok: true; detail: string } {
  if (s.shared) return { name: "shared_limits", ok: true, detail: `shared through Redis by ${s.gateways ?? 1} gateway(s)` };
  const share = fallbackShare(sendPerSecond, s.gateways);
  const cap = sendPerSecond > 0 ? `${share}/s of ${sendPerSecond}/s` : "no global cap";
  return {
    name: "shared_limits",
    ok: true,
    detail: `Redis unreachable for ${Math.round((now - s.since) / 1000)} s (${s.lastError ?? "not connected yet"}): limiting alone with a conservative share (sends ${cap}); sending goes on`,
  };
}
