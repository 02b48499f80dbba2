import { AUDIT_ACTION } from "./actions";
import type { Auditor } from "./audit";
import { deleteWebhook, setWebhook, type SetWebhookOptions, type WebhookOpsDeps } from "./telegram-webhook";

/** POST/DELETE /admin/webhook and `tgwh webhook set|delete`: Telegram's registration of our URL. */
export function createWebhookOperations(deps: { telegram: WebhookOpsDeps; auditor: Auditor }) {
  return {
    /** setWebhook to TGWH_PUBLIC_URL + /telegram/webhook with the current secret (telegram-webhook.ts). */
    setWebhook: (actor: string, opts: SetWebhookOptions = {}) =>
      deps.auditor.run({ actor, action: AUDIT_ACTION.setWebhook, detail: { ...opts } }, () => setWebhook(deps.telegram, opts)),

    /** deleteWebhook; dropPendingUpdates also drops what Telegram still holds for us. */
    deleteWebhook: (actor: string, opts: { dropPendingUpdates?: boolean } = {}) =>
      deps.auditor.run({ actor, action: AUDIT_ACTION.deleteWebhook, detail: { dropPendingUpdates: opts.dropPendingUpdates ?? false } }, () => deleteWebhook(deps.telegram, opts)),
  };
}
