import { Counter, Gauge, type Registry } from "prom-client";

/**
 * Metrics of the shared limits, registered only with TGWH_REDIS_URL (a single gateway without
 * Redis has nothing to share, and a 0 there would look like an outage).
 */
export function createLimitsMetrics(registry: Registry) {
  return {
    shared: new Gauge({
      name: "tgwh_limits_shared",
      help: "1 while send and auth limits are shared through Redis; 0 while Redis is unreachable and this gateway limits alone with a conservative share.",
      registers: [registry],
    }),
    gateways: new Gauge({
      name: "tgwh_limits_gateways",
      help: "Gateways that sent a heartbeat to Redis lately (this one included); the fallback share divides the limits by it.",
      registers: [registry],
    }),
    redisErrors: new Counter({
      name: "tgwh_limits_redis_errors_total",
      help: "Limit decisions and heartbeats that failed or timed out on Redis (each decision was then taken locally).",
      registers: [registry],
    }),
  };
}

export type LimitsMetrics = ReturnType<typeof createLimitsMetrics>;
