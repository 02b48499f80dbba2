import type { auditLog, jobs, serviceAccounts, users } from "./sqlite/schema";

/**
 * The rows the service works with, inferred from the drizzle schema, never restated by hand.
 * They are inferred from the SQLite tables; the PostgreSQL schema infers the same types
 * (test/store/postgres-schema.test.ts pins that), so one set of names serves both engines.
 * Times are unix milliseconds in both engines.
 */

/** A job as the worker and the admin API see it (prev_id is the SQLite list mode's link: internal). */
export type Job = Omit<typeof jobs.$inferSelect, "prevId">;

/** A Telegram user as tgwh knows it (from sign-ins). */
export type User = typeof users.$inferSelect;

/** What the admin API and the CLI show of a service account: never the token's hash. */
export type ServiceAccount = Omit<typeof serviceAccounts.$inferSelect, "tokenHash">;

/** One audit_log row. */
export type AuditRow = typeof auditLog.$inferSelect;
