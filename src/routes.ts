import type { Elysia } from "elysia";
import type { AppContext } from "./app";
import { createAdminRoutes } from "./admin/routes";
import { createAuthRoutes } from "./auth/routes";

/**
 * The route modules mounted beside the webhook, health and metrics: one row each.
 * (Auth, admin and docs modules register here.)
 */
export async function routeModules(ctx: AppContext): Promise<Elysia<any, any, any, any, any, any, any>[]> {
  return [
    await createAuthRoutes(ctx), // /auth/telegram/*, /auth/me, /app
    createAdminRoutes(ctx), // /admin/* (RBAC in admin/rbac.ts), /admin/docs, /internal/notifications
  ];
}
