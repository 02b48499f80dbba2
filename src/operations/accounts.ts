import type { Role } from "../store/states";
import type { ServiceAccount } from "../store/types";
import { AUDIT_ACTION } from "./actions";
import type { Auditor } from "./audit";
import { OperationError } from "./errors";
import type { ServiceAccounts } from "./service-accounts";

/** POST/DELETE /admin/service-accounts, `tgwh token create|revoke`, and smoke's own token. */
export function createAccountOperations(deps: { accounts: ServiceAccounts; auditor: Auditor }) {
  const { accounts, auditor } = deps;
  return {
    /** The token is returned this once; only its hash is stored. */
    createAccount: (actor: string, input: { name: string; role: Role }): Promise<{ account: ServiceAccount; token: string }> =>
      auditor.run({ actor, action: AUDIT_ACTION.createAccount, target: input.name, detail: { role: input.role } }, () => accounts.create(input.name, input.role)),

    /** Idempotent: revoking a revoked account keeps its first revocation time and says so. */
    revokeAccount: (actor: string, name: string): Promise<{ account: ServiceAccount; alreadyRevoked: boolean }> =>
      auditor.run({ actor, action: AUDIT_ACTION.revokeAccount, target: name }, async () => {
        const before = await accounts.byName(name);
        if (!before) throw new OperationError("not_found", `no service account named '${name}'`);
        return { account: await accounts.revoke(name), alreadyRevoked: before.revokedAt !== null };
      }),
  };
}
