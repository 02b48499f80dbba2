import { accountView } from "../admin/views";
import { ROLES, type Role } from "../store/states";
import { openCliAdmin } from "./admin-context";
import { intOption, output, parseArgs } from "./args";
import { EXIT, UsageError, type Command } from "./command";

const USAGE = `tgwh token create --name NAME --role viewer|operator|admin|service [--json]
       tgwh token list [--limit N] [--json]
       tgwh token revoke NAME [--json]

  create  prints a new bearer token once (only its SHA-256 hash is stored)
  list    names, roles, created/revoked/last used (never a token)
  revoke  the token stops working at once`;

/** `tgwh token …`: the same service-account store as /admin/service-accounts. */
export const tokenCommand: Command = {
  name: "token",
  summary: "create, list and revoke service-account tokens for the admin API",
  usage: USAGE,
  async run(args, env) {
    const [sub, ...rest] = args;
    if (sub !== "create" && sub !== "list" && sub !== "revoke") {
      throw new UsageError(sub ? `unknown token subcommand '${sub}'` : "missing subcommand: create, list or revoke");
    }
    const p = parseArgs(rest, { flags: ["--json"], options: ["--name", "--role", "--limit"] });
    const json = p.flags.has("--json");
    if (sub === "create") {
      const name = p.options.get("--name");
      const role = p.options.get("--role");
      if (!name) throw new UsageError("--name is required");
      if (!role || !(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(", ")}`);
      if (p.positionals.length) throw new UsageError(`unexpected argument '${p.positionals[0]}'`);
      const admin = await openCliAdmin(env);
      try {
        const { account, token } = await admin.operations.createAccount(admin.actor, { name, role: role as Role });
        output(json, { account: accountView(account), token }, () =>
          [`created ${account.role} account '${account.name}'. Its token (shown only now; keep it in a secret store):`, "", token].join("\n"),
        );
        return EXIT.ok;
      } finally {
        await admin.close();
      }
    }
    if (sub === "list") {
      if (p.positionals.length) throw new UsageError(`unexpected argument '${p.positionals[0]}'`);
      const limit = intOption(p, "--limit", 1000, 1, 100000);
      const admin = await openCliAdmin(env);
      try {
        const rows = (await admin.operations.accounts.list(limit)).map(accountView);
        output(json, { accounts: rows }, () => {
          if (rows.length === 0) return "no service accounts yet: sudo tgwh-admin token create --name NAME --role admin";
          const w = Math.max(4, ...rows.map((r) => r.name.length));
          return [
            `${"NAME".padEnd(w)}  ROLE      CREATED                   LAST USED                 REVOKED`,
            ...rows.map((r) => `${r.name.padEnd(w)}  ${r.role.padEnd(8)}  ${r.createdAt}  ${(r.lastUsedAt ?? "-").padEnd(24)}  ${r.revokedAt ?? "-"}`),
          ].join("\n");
        });
        return EXIT.ok;
      } finally {
        await admin.close();
      }
    }
    const [name, ...extra] = p.positionals;
    if (!name) throw new UsageError("revoke needs the account NAME");
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const admin = await openCliAdmin(env);
    try {
      const { account, alreadyRevoked } = await admin.operations.revokeAccount(admin.actor, name);
      if (alreadyRevoked) {
        output(json, { account: accountView(account), alreadyRevoked }, () => `'${name}' was already revoked at ${new Date(account.revokedAt!).toISOString()}; nothing changed`);
        return EXIT.ok;
      }
      output(json, { account: accountView(account) }, () => `revoked '${account.name}' (${account.role}); its token no longer works`);
      return EXIT.ok;
    } finally {
      await admin.close();
    }
  },
};
