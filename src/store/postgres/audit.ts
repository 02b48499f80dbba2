// drizzle's query builder: one insert per admin action, pages read by admins.
import { desc, lt } from "drizzle-orm";
import type { AuditStore } from "../types";
import type { Pg } from "./connection";
import { pgText } from "./errors";
import { auditLog } from "./schema";

/** The audit_log table: append, and page backwards, newest first. */
export function createPgAuditStore({ orm }: Pg, clock: () => number): AuditStore {
  return {
    async record(e) {
      await orm.insert(auditLog).values({ ...e, result: pgText(e.result), detail: pgText(e.detail), at: clock() });
    },
    page: (limit, cursor) =>
      orm
        .select()
        .from(auditLog)
        .where(lt(auditLog.id, cursor ?? Number.MAX_SAFE_INTEGER))
        .orderBy(desc(auditLog.id))
        .limit(limit),
  };
}
