import { randomBytes } from "node:crypto";
import { errors, jwtVerify, SignJWT } from "jose";
import { SESSION_TTL_MAX } from "../config";
import type { SettingStore } from "../store/types";
import { telegramIdOf } from "./auth-result";

/**
 * Session tokens: HS256 JWTs with `sub` = the Telegram user id. Stateless: the secret is the
 * only thing that must stay the same across restarts and between canary processes.
 */

const ISSUER = "tgwh";
const AUDIENCE = "tgwh-session";
export const SESSION_SECRET_SETTING = "auth.session_secret";

export interface Session {
  telegramId: number;
  /** Unix seconds. */
  expiresAt: number;
}

export interface SessionIssuer {
  issue(telegramId: number): Promise<{ token: string; expiresAt: number }>;
  /** Throws SessionError when the token is missing, forged, expired or not ours. */
  verify(token: string): Promise<Session>;
}

export class SessionError extends Error {
  override name = "SessionError";
}

export interface SessionSecret {
  secret: string;
  /** A generated key was found in the database and deleted, because a secret is configured now. */
  deletedGenerated: boolean;
}

/**
 * The configured secret (TGWH_SESSION_SECRET or the credential `session_secret`), else the one
 * generated on first start and kept in the database (getOrCreate: two processes starting
 * together agree on one). Once a secret is configured the generated key is deleted: left in
 * the table it would sit in every backup, able to mint sessions, and would come back into use
 * (reviving its old tokens) if the configured secret were ever removed.
 */
export async function resolveSessionSecret(configured: string | null, settings: Pick<SettingStore, "getOrCreate" | "delete">): Promise<SessionSecret> {
  if (configured !== null) return { secret: configured, deletedGenerated: await settings.delete(SESSION_SECRET_SETTING) };
  return { secret: await settings.getOrCreate(SESSION_SECRET_SETTING, () => randomBytes(48).toString("base64url")), deletedGenerated: false };
}

export function createSessionIssuer(opts: { secret: string; ttlSeconds: number; clock: () => number }): SessionIssuer {
  const key = new TextEncoder().encode(opts.secret);
  return {
    async issue(telegramId) {
      const now = Math.floor(opts.clock() / 1000);
      const expiresAt = now + opts.ttlSeconds;
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(String(telegramId))
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(expiresAt)
        .sign(key);
      return { token, expiresAt };
    },
    async verify(token) {
      if (!token) throw new SessionError("no session token; send Authorization: Bearer <token from /auth/telegram/webapp>");
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ["HS256"],
          issuer: ISSUER,
          audience: AUDIENCE,
          currentDate: new Date(opts.clock()),
        });
        const telegramId = telegramIdOf(payload.sub);
        if (telegramId === null) throw new SessionError("session token has no valid subject");
        const exp = payload.exp;
        // jose checked exp is a number in the future; a far-future or fractional one is still not ours.
        if (typeof exp !== "number" || !Number.isSafeInteger(exp) || exp > Math.floor(opts.clock() / 1000) + SESSION_TTL_MAX + 60) {
          throw new SessionError("session token has no valid expiry; sign in again");
        }
        return { telegramId, expiresAt: exp };
      } catch (err) {
        if (err instanceof SessionError) throw err;
        if (err instanceof errors.JWTExpired) throw new SessionError("session token expired; sign in again");
        throw new SessionError("session token is not valid (forged, truncated or from another server); sign in again");
      }
    },
  };
}

/** The token of an `Authorization: Bearer <token>` header, or "" when there is none. */
export function bearerToken(header: string | null | undefined): string {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return m ? m[1]! : "";
}
