import { BackupTargetError, type BackupResult, type Store } from "../store/types";
import { AUDIT_ACTION } from "./actions";
import type { Auditor } from "./audit";
import { OperationError } from "./errors";

/** `tgwh backup`: a consistent online copy of the store (its rotation stays in the command). */
export function createBackupOperations(deps: { store: Pick<Store, "backup">; auditor: Auditor }) {
  return {
    /** The audit row is written after the copy, so a backup never holds its own row. */
    takeBackup: (actor: string, target: string): Promise<BackupResult> =>
      deps.auditor.run({ actor, action: AUDIT_ACTION.takeBackup, target }, async () => {
        try {
          return await deps.store.backup(target);
        } catch (err) {
          if (err instanceof BackupTargetError) throw new OperationError("invalid", err.message);
          throw err;
        }
      }),
  };
}
