import { ROLES, type Role } from "../store/states";
import type { ServiceAccount } from "../store/types";
import { HttpError } from "../http-error";

/** `public` routes need no token (the docs page and its assets); every other row needs a role. */
export type RequiredRole = Role | "public";

/**
 * THE table: every admin and internal route with the role it needs, keyed `METHOD /path` with
 * Elysia's `:param` syntax. A route missing here is refused (fail closed) and fails the RBAC
 * matrix test, which walks this table × every role against the compiled binary.
 */
export const ROUTE_ROLES: Readonly<Record<string, RequiredRole>> = {
  "GET /admin/queue": "viewer",
  "GET /admin/jobs": "viewer",
  "GET /admin/jobs/:id": "viewer",
  "POST /admin/jobs/:id/retry": "operator",
  "POST /admin/jobs/retry-dead": "operator",
  "GET /admin/updates/:updateId": "viewer",
  "GET /admin/webhook": "viewer",
  "POST /admin/webhook": "operator",
  "DELETE /admin/webhook": "operator",
  "POST /admin/notifications": "operator",
  "GET /admin/service-accounts": "admin",
  "POST /admin/service-accounts": "admin",
  "DELETE /admin/service-accounts/:name": "admin",
  "GET /admin/audit": "admin",
  "POST /internal/notifications": "service",
  // Swagger UI: the static page, its assets and the spec carry no data and no secrets; every
  // call made from the page needs a token (see docs.ts for why the page itself is open).
  "GET /admin/docs": "public",
  "GET /admin/docs/:asset": "public",
  "GET /admin/openapi.json": "public",
};

/** viewer < operator < admin; `service` is outside the ladder and only posts notifications. */
const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3, service: 0 };

/** Whether an account of `role` may call a route that needs `required`. Pure. */
export function roleAllows(required: RequiredRole, role: Role | null): boolean {
  if (required === "public") return true;
  if (role === null) return false;
  if (required === "service") return role === "service";
  if (role === "service") return false;
  return RANK[role] >= RANK[required];
}

export const routeKey = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

/** HEAD is GET without the body (Elysia answers it with the GET handler), so it needs GET's role. */
export const requiredRoleOf = (method: string, path: string): RequiredRole | undefined =>
  ROUTE_ROLES[routeKey(method.toUpperCase() === "HEAD" ? "GET" : method, path)];

const challenge = (error?: "invalid_token") => ({
  "www-authenticate": error ? `Bearer realm="tgwh", error="${error}"` : `Bearer realm="tgwh"`,
});

/** The token of an `Authorization: Bearer …` header, or null when absent; 401 when malformed. */
export function bearerToken(header: string | null): string | null {
  if (header === null || header.trim() === "") return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new HttpError(401, "Authorization must be 'Bearer <token>'", challenge("invalid_token"));
  return m[1]!;
}

export interface Caller {
  account: ServiceAccount | null;
  /** How the audit log names the caller. */
  actor: string;
}

/**
 * Authenticates and authorises one request to a route of the table. 401 (with
 * WWW-Authenticate: Bearer) without a token or with an unknown/revoked one; 403 when the role is
 * too low; 500 for a route nobody declared (a programming error, refused rather than left open).
 */
export async function authorize(
  method: string,
  routePath: string,
  authorization: string | null,
  authenticate: (token: string) => Promise<ServiceAccount | null>,
): Promise<Caller> {
  const required = requiredRoleOf(method, routePath);
  if (required === undefined) throw new HttpError(500, `route ${routeKey(method, routePath)} has no declared role in src/admin/rbac.ts; refused`);
  if (required === "public") return { account: null, actor: "anonymous" };
  const token = bearerToken(authorization);
  if (token === null) throw new HttpError(401, "a bearer token is required: Authorization: Bearer tgwh_…", challenge());
  const account = await authenticate(token);
  if (!account) throw new HttpError(401, "the bearer token is unknown or revoked", challenge("invalid_token"));
  if (!roleAllows(required, account.role)) {
    throw new HttpError(403, `role '${account.role}' may not call ${routeKey(method, routePath)}; it needs '${required}'`);
  }
  return { account, actor: `account:${account.name}` };
}

/** Checks a list of registered routes against the table; returns the undeclared ones. */
export function undeclaredRoutes(routes: readonly { method: string; path: string }[]): string[] {
  return routes
    .filter((r) => /^\/(admin|internal)(\/|$)/.test(r.path))
    .map((r) => routeKey(r.method, r.path))
    .filter((k) => !(k in ROUTE_ROLES));
}

export { ROLES };
