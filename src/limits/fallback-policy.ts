/**
 * What "conservative" means while Redis is unreachable. Pure, tested alone.
 *
 * Other gateways may still be sending, and none of them can see the others. The usual outage is
 * Redis itself being down, so all gateways fall back at once: each then takes an equal share of
 * every shared budget (global sends per second, auth requests per minute), and together they
 * stay within it. The share divides by the number of gateways that sent a heartbeat to Redis
 * shortly before it went away (tgwh_limits_gateways); a gateway that never reached Redis since it
 * started assumes two, the smallest deployment that needs Redis. Per-chat and per-group
 * intervals stay as they are on each gateway: one chat's jobs run one at a time, so two gateways
 * rarely send to one chat together, and a 429 that results is honoured like any other.
 */

/** Gateways assumed when this one never saw the heartbeat set. */
export const ASSUMED_GATEWAYS = 2;

/** This gateway's share of a budget shared by `gateways` gateways; 0 (no cap) stays 0; never under 1. */
export function fallbackShare(total: number, gateways: number | null): number {
  if (total <= 0) return 0;
  const n = Math.max(1, gateways ?? ASSUMED_GATEWAYS);
  return Math.max(1, Math.floor(total / n));
}

/** Heartbeats while Redis answers: they keep the gateway count fresh and notice an outage without traffic. */
export const HEARTBEAT_MS = 5000;
/** A gateway counts as present while its last heartbeat is younger than this (three missed beats). */
export const GATEWAY_TTL_MS = 3 * HEARTBEAT_MS;

/**
 * Delay before the next reconnection probe: 0.5 s doubling to 10 s, with ±20 % jitter so a fleet
 * of gateways does not probe in step. `random` in [0, 1).
 */
export function probeDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(10_000, 500 * 2 ** Math.max(0, Math.min(attempt, 10)));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** What a gateway believes about the gateway count: the figure it uses, and a floor under it. */
export interface GatewayCount {
  /** null until Redis first answered. */
  gateways: number | null;
  /** The count may not drop below this before floorUntil. */
  floor: number;
  floorUntil: number;
}

export const unknownGatewayCount = (): GatewayCount => ({ gateways: null, floor: 0, floorUntil: 0 });

/**
 * The count after a heartbeat. Redis's set holds every gateway that beat in the last
 * GATEWAY_TTL_MS, unless the set was lost: Redis restarted empty (or this gateway was away
 * longer than the TTL). This gateway then finds itself missing from it although it had counted
 * before (`joined`), and the others reappear only as their own beats or reconnection probes reach
 * Redis, within one TTL. Until then the count stays at least what it was: a fallback in between
 * must not take a bigger share than the gateways present allow. A gateway that was in the set
 * reads an exact count (a clean stop leaves at once, so the others' share grows at once).
 */
export function countAfterHeartbeat(c: GatewayCount, beat: { gateways: number; joined: boolean }, now: number): GatewayCount {
  const lost = beat.joined && c.gateways !== null;
  const floor = lost ? c.gateways! : c.floor;
  const floorUntil = lost ? now + GATEWAY_TTL_MS : c.floorUntil;
  return { gateways: now < floorUntil ? Math.max(beat.gateways, floor) : beat.gateways, floor, floorUntil };
}
