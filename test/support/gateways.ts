/**
 * Gateways (compiled dist/tgwh) on one PostgreSQL store, for multi-gateway tests: each with its
 * own port, folder and TGWH_INSTANCE_ID, TGWH_DB unset (with TGWH_DATABASE_URL it is an error).
 * Pass a Redis URL in `env` to share limits too. Stop them with stopGateways (by pid).
 */
import { startTgwh, type StartOptions, type TgwhProcess } from "./tgwh";

export interface GatewayOptions extends StartOptions {
  databaseUrl: string;
  /** TGWH_INSTANCE_ID (default gw<i>). */
  instanceId?: string;
}

export function startGateway(opts: GatewayOptions): Promise<TgwhProcess> {
  return startTgwh({
    ...opts,
    env: { TGWH_DB: undefined, TGWH_DATABASE_URL: opts.databaseUrl, TGWH_INSTANCE_ID: opts.instanceId ?? "gw0", ...opts.env },
  });
}

/** Starts `n` gateways one after another (gw1…gwN) on the same database. */
export async function startGateways(n: number, opts: Omit<GatewayOptions, "instanceId">): Promise<TgwhProcess[]> {
  const out: TgwhProcess[] = [];
  for (let i = 1; i <= n; i++) out.push(await startGateway({ ...opts, instanceId: `gw${i}` }));
  return out;
}

export async function stopGateways(gateways: readonly TgwhProcess[]): Promise<void> {
  await Promise.all(gateways.map((g) => g.stop()));
}
