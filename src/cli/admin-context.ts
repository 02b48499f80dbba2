import { userInfo } from "node:os";
import { createAuditor, type Auditor } from "../admin/audit";
import { createServiceAccounts, type ServiceAccounts } from "../admin/service-accounts";
import { loadConfig, secretsOf, type Config } from "../config";
import { createScrubber } from "../log";
import { openStore } from "../store/open";
import type { BackupResult, JobStore } from "../store/types";
import { actAsServiceUser } from "./run-as-service-user";

/** What the operator commands share: the same store the admin API uses. */
export interface CliAdmin {
  cfg: Config;
  /** Where the store is, for messages (never a password). */
  location: string;
  accounts: ServiceAccounts;
  jobs: JobStore;
  auditor: Auditor;
  /** How the audit log names this command's caller (cliActor). */
  actor: string;
  /** A consistent online copy (Store.backup). */
  backup(target: string): Promise<BackupResult>;
  /** Makes every write durable, then closes the store. */
  close(): Promise<void>;
}

function unixUser(env: Record<string, string | undefined>): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? "unknown";
  }
}

/**
 * How the audit log names the person running a command: `cli:<unix user>`, and under sudo the
 * operator who typed it (SUDO_USER) with the account it ran as, e.g. `cli:alice (sudo as root)`.
 * Without it every `sudo tgwh-admin …` would be audited as root.
 */
export function cliActor(env: Record<string, string | undefined>): string {
  const effective = unixUser(env);
  const invoker = env.SUDO_USER?.trim();
  if (invoker && /^[A-Za-z0-9._-]{1,64}$/.test(invoker) && invoker !== effective) return `cli:${invoker} (sudo as ${effective})`;
  return `cli:${effective}`;
}

/**
 * Opens the store the service uses (safe while it runs: SQLite's WAL, busy_timeout and short
 * write transactions), as its owner when run as root. It never creates one (MissingDatabaseError
 * names the path and says to run `tgwh migrate`); pending migrations are applied.
 */
export async function openCliAdmin(env: Record<string, string | undefined>): Promise<CliAdmin> {
  const cfg = loadConfig(env);
  // Before acting as the service user: the audit log names who ran the command.
  const actor = cliActor(env);
  actAsServiceUser(cfg.dbPath);
  const store = await openStore(cfg, { migrate: true, mustExist: "migrated" });
  const errorLog = { error: (o: object, msg: string) => process.stderr.write(`tgwh: ${msg}\n`) };
  return {
    cfg,
    location: store.location,
    accounts: createServiceAccounts(store.accounts),
    jobs: store.jobs,
    auditor: createAuditor(store.audit, errorLog as never, createScrubber(secretsOf(cfg))),
    backup: (target) => store.backup(target),
    actor,
    close: () => store.close(),
  };
}
