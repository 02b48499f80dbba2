// drizzle's query builder: one insert per admin action, pages read by admins.
import { desc, lt } from "drizzle-orm";
import type { AuditStore } from "../types";
import type { Writer } from "./commit/writer";
import type { Db } from "./connection";
import { auditLog } from "./schema";

/** The audit_log table: append (in the group commit) and page backwards, newest first. */
export function createSqliteAuditStore(db: Db, writer: Writer, clock: () => number): AuditStore {
  const { orm } = db;
  return {
    record: (e) =>
      writer.run(() => {
        orm.insert(auditLog).values({ ...e, at: clock() }).run();
      }),
    page: async (limit, cursor) =>
      orm
        .select()
        .from(auditLog)
        .where(lt(auditLog.id, cursor ?? Number.MAX_SAFE_INTEGER))
        .orderBy(desc(auditLog.id))
        .limit(limit)
        .all(),
  };
}
