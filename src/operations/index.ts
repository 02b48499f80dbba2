import type { Scrub } from "../log";
import type { Store } from "../store/types";
import { createAccountOperations } from "./accounts";
import { createAuditor, type AuditErrorLog } from "./audit";
import { createBackupOperations } from "./backup";
import { createJobOperations } from "./jobs";
import { createNotificationOperations } from "./notifications";
import { createServiceAccounts } from "./service-accounts";
import type { WebhookOpsDeps } from "./telegram-webhook";
import { createWebhookOperations } from "./webhook";

export interface OperationsDeps {
  store: Pick<Store, "jobs" | "accounts" | "audit" | "backup">;
  /** The bot token, secret and URLs the webhook calls need (webhookDeps(cfg)). */
  telegram: WebhookOpsDeps;
  log: AuditErrorLog;
  /** Takes every configured secret out of an error before it lands in an audit row. */
  scrub: Scrub;
  clock: () => number;
  /** The service wakes its worker; the CLI passes nothing (the service's next poll finds the jobs). */
  wakeWorker?: () => void;
}

/**
 * Every action an operator (or a service) can take, each audited under its AUDIT_ACTION name and
 * failing with an OperationError: the one place the admin API and the CLI get them from, over
 * one set of stores. The service accounts come along: the admin API authenticates with them.
 */
export function createOperations(deps: OperationsDeps) {
  const accounts = createServiceAccounts(deps.store.accounts, deps.clock);
  const auditor = createAuditor(deps.store.audit, deps.log, deps.scrub);
  const wakeWorker = deps.wakeWorker ?? (() => {});
  return {
    accounts,
    auditor,
    ...createJobOperations({ jobs: deps.store.jobs, auditor, wakeWorker }),
    ...createWebhookOperations({ telegram: deps.telegram, auditor }),
    ...createAccountOperations({ accounts, auditor }),
    ...createNotificationOperations({ jobs: deps.store.jobs, auditor, clock: deps.clock, wakeWorker }),
    ...createBackupOperations({ store: deps.store, auditor }),
  };
}

export type Operations = ReturnType<typeof createOperations>;
