import { loadConfig } from "../config";
import { OperationError } from "../operations/errors";
import { getWebhookStatus, validateSetOptions, webhookDeps } from "../operations/telegram-webhook";
import { openCliAdmin } from "./admin-context";
import { intOption, output, parseArgs } from "./args";
import { EXIT, UsageError, type Command } from "./command";

const USAGE = `tgwh webhook set [--max-connections N] [--allowed-updates a,b,…] [--drop-pending-updates] [--json]
       tgwh webhook info [--json]
       tgwh webhook delete [--drop-pending-updates] [--json]

  set     setWebhook to $TGWH_PUBLIC_URL/telegram/webhook with the current TGWH_WEBHOOK_SECRET;
          max_connections and allowed_updates not given are kept from the current registration
          (40 and message,edited_message,callback_query,my_chat_member for a first one).
          Update types are checked against the Bot API's list; the URL's port must be 443, 80, 88 or 8443
  info    Telegram's getWebhookInfo, and whether it points at this configuration
  delete  deleteWebhook
  Needs TGWH_BOT_TOKEN (or _FILE); set also TGWH_PUBLIC_URL and TGWH_WEBHOOK_SECRET.`;

/** `tgwh webhook …`: the same functions as GET/POST/DELETE /admin/webhook. */
export const webhookCommand: Command = {
  name: "webhook",
  summary: "register, inspect or delete the Telegram webhook",
  usage: USAGE,
  async run(args, env) {
    const [sub, ...rest] = args;
    if (sub !== "set" && sub !== "info" && sub !== "delete") throw new UsageError(sub ? `unknown webhook subcommand '${sub}'` : "missing subcommand: set, info or delete");
    const p = parseArgs(rest, { flags: ["--json", "--drop-pending-updates"], options: ["--max-connections", "--allowed-updates"] });
    if (p.positionals.length) throw new UsageError(`unexpected argument '${p.positionals[0]}'`);
    const json = p.flags.has("--json");
    const drop = p.flags.has("--drop-pending-updates");
    const allowedRaw = p.options.get("--allowed-updates");
    const allowedUpdates = allowedRaw?.split(",").map((s) => s.trim()).filter(Boolean);
    if (allowedRaw !== undefined && allowedUpdates!.length === 0) throw new UsageError("--allowed-updates is a comma-separated list of update types, e.g. message,callback_query");
    const maxConnections = p.options.has("--max-connections") ? intOption(p, "--max-connections", 40, 1, 100) : undefined;
    try {
      validateSetOptions({ allowedUpdates, maxConnections });
    } catch (err) {
      if (err instanceof OperationError && err.failure === "invalid") throw new UsageError(`--allowed-updates: ${err.message}`);
      throw err;
    }
    if (sub !== "set" && (allowedUpdates || maxConnections !== undefined)) throw new UsageError(`--allowed-updates and --max-connections go with set`);

    if (sub === "info") {
      // Only reads Telegram: no database needed.
      {
        const st = await getWebhookStatus(webhookDeps(loadConfig(env)));
        output(json, st, () => {
          const t = st.telegram;
          return [
            `url:                  ${t.url || "(none: no webhook set)"}`,
            `expected url:         ${st.expectedUrl ?? "(TGWH_PUBLIC_URL not set)"}${st.urlMatches ? "  ✓ matches" : st.expectedUrl ? "  ✗ differs" : ""}`,
            `pending updates:      ${t.pendingUpdateCount}`,
            `max connections:      ${t.maxConnections ?? "-"}`,
            `allowed updates:      ${t.allowedUpdates?.join(",") ?? "(Telegram's default)"}`,
            `ip address:           ${t.ipAddress ?? "-"}`,
            `last error:           ${t.lastErrorDate ? `${t.lastErrorDate} ${t.lastErrorMessage ?? ""}` : "-"}`,
          ].join("\n");
        });
        return EXIT.ok;
      }
    }

    const admin = await openCliAdmin(env);
    try {
      if (sub === "set") {
        const res = await admin.operations.setWebhook(admin.actor, { allowedUpdates, maxConnections, dropPendingUpdates: drop });
        output(json, res, () =>
          [
            `webhook set to ${res.url}${res.previousUrl && res.previousUrl !== res.url ? ` (was ${res.previousUrl})` : ""}`,
            `max_connections ${res.maxConnections}, allowed_updates ${res.allowedUpdates?.join(",") ?? "(Telegram's default)"}${res.kept.length ? ` (kept: ${res.kept.join(", ")})` : ""}${res.dropPendingUpdates ? "; pending updates dropped" : ""}`,
          ].join("\n"),
        );
        return EXIT.ok;
      }
      const res = await admin.operations.deleteWebhook(admin.actor, { dropPendingUpdates: drop });
      output(json, res, () => `webhook deleted${drop ? " (pending updates dropped)" : ""}`);
      return EXIT.ok;
    } finally {
      await admin.close();
    }
  },
};
