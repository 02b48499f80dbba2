/**
 * How busy the webhook is right now: requests received and not yet answered. When Telegram
 * delivers as fast as we ack (a burst after an outage), acks come first: the worker gives up most
 * of its slots to the ingress until the burst passes, and drains the stored backlog after.
 * Nothing is lost or reordered by this; processing only starts later.
 */
export interface IngressLoad {
  enter(): void;
  leave(): void;
  readonly inFlight: number;
  /** True while at least `busyAt` webhook requests wait for their commit. */
  saturated(): boolean;
}

/** At or above this many requests in flight, the ingress counts as saturated. */
export const INGRESS_BUSY_AT = 16;

export function createIngressLoad(busyAt = INGRESS_BUSY_AT): IngressLoad {
  let inFlight = 0;
  return {
    enter: () => void inFlight++,
    leave: () => void (inFlight = Math.max(0, inFlight - 1)),
    get inFlight() {
      return inFlight;
    },
    saturated: () => inFlight >= busyAt,
  };
}
