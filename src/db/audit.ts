import type { Database } from "bun:sqlite";
import type { Writer } from "./writer";

export interface AuditEntry {
  /** `account:<name>` for API calls, `cli:<user>` for the CLI. */
  actor: string;
  /** e.g. `jobs.retry`, `webhook.set`, `service_accounts.create`. */
  action: string;
  target: string | null;
  /** `ok`, or `error: <why>` / `denied`. */
  result: string;
  /** Small JSON with what the call asked for (never a secret). */
  detail: string | null;
}

export interface AuditRow extends AuditEntry {
  id: number;
  at: number;
}

/** The audit_log table: append and page backwards (newest first). */
export function createAuditLog(sqlite: Database, writer: Writer, clock: () => number = Date.now) {
  const insert = sqlite.prepare<unknown, [string, string, string | null, string, string | null, number]>(
    "INSERT INTO audit_log (actor, action, target, result, detail, at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const page = sqlite.prepare<AuditRow, [number, number]>(
    "SELECT id, actor, action, target, result, detail, at FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?",
  );
  return {
    /** Resolves once the row is durable. */
    record: (e: AuditEntry): Promise<void> =>
      writer.run(() => void insert.run(e.actor, e.action, e.target, e.result, e.detail, clock())),
    /** Newest first; cursor is the smallest id of the previous page. */
    list: (limit: number, cursor: number | null): AuditRow[] => page.all(cursor ?? Number.MAX_SAFE_INTEGER, limit),
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
