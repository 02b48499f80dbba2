import type { Elysia } from "elysia";
import type { AppContext } from "./app";

/**
 * The route modules mounted beside the webhook, health and metrics: one row each.
 * (Auth, admin and docs modules register here.)
 */
export function routeModules(ctx: AppContext): Elysia<any, any, any, any, any, any, any>[] {
  void ctx;
  return [];
}
