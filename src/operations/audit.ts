import type { AuditStore } from "../store/types";
import type { Scrub } from "../log";
import { AUDIT_ACTION, type AuditAction } from "./actions";

/** The audit row's text for a failure: the message only, scrubbed, then shortened. */
const resultOf = (err: unknown, scrub: Scrub) => `error: ${scrub(String((err as Error)?.message ?? err)).slice(0, 300)}`;

export interface AuditedCall {
  actor: string;
  action: AuditAction;
  target?: string | number | null;
  /** What was asked (never a secret): stored as JSON. */
  detail?: Record<string, unknown>;
}

/** Where a failed audit write is reported: the service's logger, or the CLI's stderr. */
export interface AuditErrorLog {
  error(fields: object, msg: string): void;
}

/**
 * Wraps every operation (operations/*.ts): runs it, then writes one audit_log row with its
 * result (`ok` or `error: …`), also when it fails. A failed audit write is logged and fails the
 * call, so a change never goes unrecorded in silence: the log line is its trace.
 */
export function createAuditor(audit: Pick<AuditStore, "record">, log: AuditErrorLog, scrub: Scrub) {
  async function write(a: AuditedCall, result: string): Promise<void> {
    try {
      await audit.record({
        actor: a.actor,
        action: a.action,
        target: a.target === undefined || a.target === null ? null : String(a.target),
        result,
        detail: a.detail ? JSON.stringify(a.detail) : null,
      });
    } catch (err) {
      log.error({ err, action: a.action }, "writing the audit log failed");
      throw err;
    }
  }
  return {
    async run<T>(a: AuditedCall, fn: () => Promise<T>): Promise<T> {
      let value: T;
      try {
        value = await fn();
      } catch (err) {
        await write(a, resultOf(err, scrub)).catch(() => {});
        throw err;
      }
      await write(a, "ok");
      return value;
    },
    /** A refused call (role too low) on a mutating route; `target` says which. */
    denied: (a: Omit<AuditedCall, "action">) => write({ ...a, action: AUDIT_ACTION.denied }, "denied").catch(() => {}),
  };
}

export type Auditor = ReturnType<typeof createAuditor>;
