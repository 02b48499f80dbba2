import type { JobStore } from "../store/types";
import { notificationJob, type NotificationInput } from "../telegram/notifications";
import { AUDIT_ACTION } from "./actions";
import type { Auditor } from "./audit";

export interface NotificationOperationDeps {
  jobs: Pick<JobStore, "insert">;
  auditor: Auditor;
  clock: () => number;
  wakeWorker: () => void;
}

/** POST /admin/notifications (operators) and POST /internal/notifications (services): one operation. */
export function createNotificationOperations(deps: NotificationOperationDeps) {
  return {
    /** Queues one sendMessage as a durable job; resolves once committed. The text itself is not audited. */
    queueNotification: (actor: string, input: NotificationInput): Promise<{ jobId: number; duplicate: boolean }> =>
      deps.auditor.run({ actor, action: AUDIT_ACTION.queueNotification, target: String(input.chatId), detail: { dedupeKey: input.dedupeKey ?? null, chars: input.text.length } }, async () => {
        const [res] = await deps.jobs.insert([notificationJob(input, deps.clock())]);
        if (res!.inserted) deps.wakeWorker();
        return { jobId: res!.id, duplicate: !res!.inserted };
      }),
  };
}
