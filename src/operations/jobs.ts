import type { Job, JobStore, RetryDeadResult } from "../store/types";
import { AUDIT_ACTION } from "./actions";
import type { Auditor } from "./audit";
import { OperationError } from "./errors";

export interface JobOperationDeps {
  jobs: Pick<JobStore, "retry" | "retryDead">;
  auditor: Auditor;
  /** Retried jobs are runnable now: the worker looks at once instead of at its next poll. */
  wakeWorker: () => void;
}

/** POST /admin/jobs/{id}/retry, POST /admin/jobs/retry-dead, `tgwh jobs retry`. */
export function createJobOperations(deps: JobOperationDeps) {
  return {
    /** A dead job goes back to pending with its attempts reset; any other state is a conflict. */
    retryJob: (actor: string, id: number): Promise<Job> =>
      deps.auditor.run({ actor, action: AUDIT_ACTION.retryJob, target: id }, async () => {
        const res = await deps.jobs.retry(id);
        if (res.outcome === "not_found") throw new OperationError("not_found", `no job with id ${id}`);
        if (res.outcome === "not_dead") throw new OperationError("conflict", `job ${id} is ${res.state}; only dead jobs can be retried`);
        deps.wakeWorker();
        return res.job;
      }),

    /** The oldest dead jobs, at most `limit` per call; `remaining` says how many are left. */
    retryDeadJobs: (actor: string, limit: number): Promise<RetryDeadResult> =>
      deps.auditor.run({ actor, action: AUDIT_ACTION.retryDeadJobs, detail: { limit } }, async () => {
        const res = await deps.jobs.retryDead(limit);
        if (res.retried.length > 0) deps.wakeWorker();
        return res;
      }),
  };
}
