import type { CliAdmin } from "./admin-context";
import { openCliAdmin } from "./admin-context";

/**
 * `tgwh smoke` without a token of the operator's: it makes its own operator token on the
 * service's database, uses it for the few seconds of the test and revokes it (also on Ctrl-C).
 * There is no expiry column, so a smoke killed with -9 would leave its token live: each run
 * therefore also revokes earlier smoke accounts older than LEFTOVER_MS.
 */

export const SMOKE_ACCOUNT_PREFIX = "smoke-";
const LEFTOVER_MS = 10 * 60_000;

export interface SmokeToken {
  name: string;
  token: string;
  /** Revokes the account; safe to call more than once. */
  revoke(): Promise<void>;
}

/** `smoke-20261129T150405Z-1234`: unique per run, recognisable in `token list` and the audit log. Pure. */
export const smokeAccountName = (now: number, pid: number) =>
  `${SMOKE_ACCOUNT_PREFIX}${new Date(now).toISOString().replace(/\.\d+Z$/, "Z").replace(/[-:]/g, "")}-${pid}`;

/** Earlier smoke accounts that are still live and old enough to be leftovers. Pure. */
export function leftoverSmokeAccounts(accounts: { name: string; createdAt: number; revokedAt: number | null }[], now: number): string[] {
  return accounts.filter((a) => a.name.startsWith(SMOKE_ACCOUNT_PREFIX) && a.revokedAt === null && now - a.createdAt > LEFTOVER_MS).map((a) => a.name);
}

export async function createSmokeToken(env: Record<string, string | undefined>): Promise<SmokeToken> {
  const admin: CliAdmin = await openCliAdmin(env);
  const ops = admin.operations;
  for (const name of leftoverSmokeAccounts(await ops.accounts.list(100000), Date.now())) await ops.revokeAccount(admin.actor, name);
  const name = smokeAccountName(Date.now(), process.pid);
  const { token } = await ops.createAccount(admin.actor, { name, role: "operator" });
  let revoked = false;
  const revoke = async () => {
    if (revoked) return;
    revoked = true;
    try {
      await ops.revokeAccount(admin.actor, name);
    } finally {
      await admin.close();
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    void revoke().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return { name, token, revoke };
}
