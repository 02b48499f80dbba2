import { describe, expect, test } from "bun:test";
import { authorize, bearerToken, roleAllows, ROUTE_ROLES, undeclaredRoutes, type RequiredRole } from "../../src/admin/rbac";
import type { Role } from "../../src/store/states";
import type { ServiceAccount } from "../../src/store/types";
import { HttpError } from "../../src/http-error";

const ROLES: Role[] = ["viewer", "operator", "admin", "service"];

describe("roleAllows", () => {
  const table: Record<RequiredRole, Role[]> = {
    public: ["viewer", "operator", "admin", "service"],
    viewer: ["viewer", "operator", "admin"],
    operator: ["operator", "admin"],
    admin: ["admin"],
    service: ["service"],
  };
  for (const [required, allowed] of Object.entries(table) as [RequiredRole, Role[]][]) {
    test(`${required}: ${allowed.join(", ")}`, () => {
      expect(ROLES.filter((r) => roleAllows(required, r))).toEqual(allowed);
      expect(roleAllows(required, null)).toBe(required === "public");
    });
  }
});

describe("bearerToken", () => {
  test("absent → null; Bearer x → x; anything else → 401", () => {
    expect(bearerToken(null)).toBeNull();
    expect(bearerToken("")).toBeNull();
    expect(bearerToken("Bearer tgwh_abc")).toBe("tgwh_abc");
    expect(bearerToken("bearer  tgwh_abc ")).toBe("tgwh_abc");
    for (const h of ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "tgwh_abc"]) {
      expect(() => bearerToken(h)).toThrow(HttpError);
    }
  });
});

describe("authorize", () => {
  const acct = (role: Role): ServiceAccount => ({ id: 1, name: `n-${role}`, role, createdAt: 0, revokedAt: null, lastUsedAt: null });
  const lookup = async (token: string) => (token.startsWith("tgwh_") ? acct(token.slice(5) as Role) : null);
  /** The status authorize refuses with; a call that is let through fails the test. */
  const refusal = async (call: Promise<unknown>): Promise<HttpError> => {
    const outcome = await call.then(
      () => null,
      (e: unknown) => e,
    );
    if (!(outcome instanceof HttpError)) throw new Error(`expected an HttpError refusal, got ${outcome === null ? "a caller" : String(outcome)}`);
    return outcome;
  };
  test("401 without or with an unknown token (with WWW-Authenticate), 403 too low, ok otherwise", async () => {
    const missing = await refusal(authorize("GET", "/admin/queue", null, lookup));
    expect(missing.status).toBe(401);
    expect(missing.headers["www-authenticate"]).toBe('Bearer realm="tgwh"');
    const unknown = await refusal(authorize("GET", "/admin/queue", "Bearer nope", lookup));
    expect(unknown.status).toBe(401);
    expect(unknown.headers["www-authenticate"]).toBe('Bearer realm="tgwh", error="invalid_token"');
    expect((await refusal(authorize("POST", "/admin/jobs/:id/retry", "Bearer tgwh_viewer", lookup))).status).toBe(403);
    expect((await authorize("POST", "/admin/jobs/:id/retry", "Bearer tgwh_operator", lookup)).actor).toBe("account:n-operator");
    expect((await authorize("GET", "/admin/queue", "Bearer tgwh_admin", lookup)).actor).toBe("account:n-admin");
  });
  test("refusal itself fails when the call goes through", async () => {
    await expect(refusal(authorize("GET", "/admin/queue", "Bearer tgwh_admin", lookup))).rejects.toThrow("expected an HttpError refusal");
  });
  test("a route missing from the table is refused, whoever calls", async () => {
    expect((await refusal(authorize("GET", "/admin/secret-new-thing", "Bearer tgwh_admin", lookup))).status).toBe(500);
  });
  test("public rows need no token", async () => {
    expect((await authorize("GET", "/admin/docs", null, lookup)).account).toBeNull();
  });
});

describe("the table", () => {
  test("undeclaredRoutes finds admin/internal routes without a row, ignores others", () => {
    expect(undeclaredRoutes([
      { method: "GET", path: "/admin/queue" },
      { method: "PUT", path: "/admin/queue" },
      { method: "GET", path: "/internal/x" },
      { method: "GET", path: "/healthz" },
      { method: "GET", path: "/administrator" },
    ])).toEqual(["PUT /admin/queue", "GET /internal/x"]);
  });
  test("only /internal/notifications is for services, and it is for services only", () => {
    const serviceRoutes = Object.entries(ROUTE_ROLES).filter(([, r]) => r === "service").map(([k]) => k);
    expect(serviceRoutes).toEqual(["POST /internal/notifications"]);
    for (const key of Object.keys(ROUTE_ROLES)) if (key.includes(" /internal/")) expect(ROUTE_ROLES[key]).toBe("service");
  });
});
