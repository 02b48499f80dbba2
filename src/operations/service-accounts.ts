import { createHash, randomBytes } from "node:crypto";
import type { Role } from "../store/states";
import type { AccountStore, ServiceAccount } from "../store/types";
import { OperationError } from "./errors";

export const TOKEN_PREFIX = "tgwh_";
/** Names are shown in logs and audit rows and used in URLs and CLI arguments: keep them plain. */
export const ACCOUNT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** last_used_at is rewritten at most this often per account, so auth stays a read. */
export const LAST_USED_GRANULARITY_MS = 60_000;

/** A new bearer token: prefix (so scanners and people recognise it) + 32 random bytes. */
export const newToken = (): string => TOKEN_PREFIX + randomBytes(32).toString("base64url");

/** Only this is stored: a leaked database does not leak usable tokens. Tokens are random, so no salt is needed. */
export const hashToken = (token: string): string => createHash("sha256").update(token).digest("hex");

/** Service accounts and their bearer tokens, over the store's account rows. */
export function createServiceAccounts(rows: AccountStore, clock: () => number = Date.now) {
  // Per-process memory of the last write, so a busy token costs one write a minute, not one per call.
  const lastTouched = new Map<number, number>();
  return {
    /** Creates an account and returns its token: the only time the token exists in clear. */
    async create(name: string, role: Role): Promise<{ account: ServiceAccount; token: string }> {
      if (!ACCOUNT_NAME_RE.test(name)) {
        throw new OperationError("invalid", "name must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit");
      }
      const token = newToken();
      const account = await rows.create({ name, role, tokenHash: hashToken(token) });
      if (!account) {
        const taken = await rows.byName(name);
        // A revoked name stays taken: audit rows name accounts, and one name must mean one account.
        if (taken?.revokedAt) throw new OperationError("conflict", `'${name}' is the name of an account revoked at ${new Date(taken.revokedAt).toISOString()}; names are never reused (the audit log refers to them): pick another, e.g. ${name}-2`);
        throw new OperationError("conflict", `a service account named '${name}' already exists; revoke it or pick another name`);
      }
      return { account, token };
    },
    /** Revokes by name (idempotent: revoking twice keeps the first time). */
    async revoke(name: string): Promise<ServiceAccount> {
      const account = await rows.revoke(name);
      if (!account) throw new OperationError("not_found", `no service account named '${name}'`);
      return account;
    },
    byName: (name: string) => rows.byName(name),
    /** A page of accounts by id; cursor is the last id seen. */
    list: (limit: number, cursor = 0) => rows.list(limit, cursor),
    /** The live account a bearer token belongs to, or null (unknown, malformed or revoked). */
    async authenticate(token: string): Promise<ServiceAccount | null> {
      if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
      const account = await rows.byTokenHash(hashToken(token));
      if (!account || account.revokedAt !== null) return null;
      const now = clock();
      const last = Math.max(lastTouched.get(account.id) ?? 0, account.lastUsedAt ?? 0);
      if (now - last >= LAST_USED_GRANULARITY_MS) {
        lastTouched.set(account.id, now);
        // Fire and forget, inside the next commit: auth never waits for a disk write.
        rows.touchLastUsed(account.id, now, now - LAST_USED_GRANULARITY_MS).catch(() => lastTouched.delete(account.id));
      }
      return account;
    },
  };
}

export type ServiceAccounts = ReturnType<typeof createServiceAccounts>;
