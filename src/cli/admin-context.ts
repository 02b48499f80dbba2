import { userInfo } from "node:os";
import { loadConfig, secretsOf, type Config } from "../config";
import { createScrubber } from "../log";
import { createOperations, type Operations } from "../operations";
import { webhookDeps } from "../operations/telegram-webhook";
import { openStore } from "../store/open";
import type { Store } from "../store/types";
import { actAsServiceUser } from "./run-as-service-user";

/** What the operator commands share: the operations and reads the admin API has, on the service's store. */
export interface CliAdmin {
  cfg: Config;
  /** For reads (jobs ls, token list) and messages; every change goes through `operations`. */
  store: Pick<Store, "location" | "jobs">;
  /** The audited actions (operations/); their failures become exit codes in cli/command.ts. */
  operations: Operations;
  /** How the audit log names this command's caller (cliActor). */
  actor: string;
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
 * names the path and says to run `tgwh migrate`); pending migrations are applied. The running
 * service's worker is not woken by what a command queues: its next poll (within a second) finds it.
 */
export async function openCliAdmin(env: Record<string, string | undefined>): Promise<CliAdmin> {
  const cfg = loadConfig(env);
  // Before acting as the service user: the audit log names who ran the command.
  const actor = cliActor(env);
  if (!cfg.databaseUrl) actAsServiceUser(cfg.dbPath); // PostgreSQL: no file to own
  const store = await openStore(cfg, { migrate: true, mustExist: "migrated" });
  const errorLog = { error: (_fields: object, msg: string) => void process.stderr.write(`tgwh: ${msg}\n`) };
  const operations = createOperations({ store, telegram: webhookDeps(cfg), log: errorLog, scrub: createScrubber(secretsOf(cfg)), clock: Date.now });
  return { cfg, store, operations, actor, close: () => store.close() };
}
