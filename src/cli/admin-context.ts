import { userInfo } from "node:os";
import { createAuditor, type Auditor } from "../admin/audit";
import { loadConfig, secretsOf, type Config } from "../config";
import { createScrubber } from "../log";
import { createAuditLog } from "../db/audit";
import { openDb, type Db } from "../db/client";
import { createServiceAccounts, type ServiceAccounts } from "../db/service-accounts";
import { createWriter, type Writer } from "../db/writer";
import { createJobAdmin, type JobAdmin } from "../queue/admin-queries";
import { ensureDatabaseReady } from "./database-guard";
import { actAsServiceUser } from "./run-as-service-user";

/** What the operator commands share: the same stores the admin API uses, on the same file. */
export interface CliAdmin {
  cfg: Config;
  db: Db;
  writer: Writer;
  accounts: ServiceAccounts;
  jobs: JobAdmin;
  auditor: Auditor;
  /** How the audit log names this command's caller (cliActor). */
  actor: string;
  close(): void;
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
 * Opens the database the service uses (safe while it runs: WAL, busy_timeout, short write
 * transactions), as its owner when run as root, and never creates one (database-guard.ts).
 */
export function openCliAdmin(env: Record<string, string | undefined>): CliAdmin {
  const cfg = loadConfig(env);
  // Before acting as the service user: the audit log names who ran the command.
  const actor = cliActor(env);
  actAsServiceUser(cfg.dbPath);
  ensureDatabaseReady(cfg);
  const db = openDb({ path: cfg.dbPath, synchronous: cfg.synchronous, busyTimeoutMs: cfg.busyTimeoutMs, migrate: true });
  const writer = createWriter(db.sqlite);
  const errorLog = { error: (o: object, msg: string) => process.stderr.write(`tgwh: ${msg}\n`) };
  return {
    cfg,
    db,
    writer,
    accounts: createServiceAccounts(db.sqlite, writer),
    jobs: createJobAdmin(db.sqlite, writer),
    auditor: createAuditor(createAuditLog(db.sqlite, writer), errorLog as never, createScrubber(secretsOf(cfg))),
    actor,
    close: () => {
      writer.flush();
      db.close();
    },
  };
}
