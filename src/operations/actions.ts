/**
 * Every audited action's name, as it appears in audit_log.action (and GET /admin/audit). One row
 * per operation of this folder; each operation records under its row's name, whoever calls it
 * (the admin API as `account:<name>`, the CLI as `cli:<user>`).
 */
export const AUDIT_ACTION = {
  retryJob: "jobs.retry",
  retryDeadJobs: "jobs.retry_dead",
  setWebhook: "webhook.set",
  deleteWebhook: "webhook.delete",
  createAccount: "service_accounts.create",
  revokeAccount: "service_accounts.revoke",
  queueNotification: "notifications.send",
  takeBackup: "backup",
  /** Not an operation: a mutating admin call refused for the caller's role (admin/routes.ts). */
  denied: "denied",
} as const;

export type AuditAction = (typeof AUDIT_ACTION)[keyof typeof AUDIT_ACTION];
