import type { Server } from "bun";
import { errorResponse } from "./http-error";

/**
 * Refuses, before any routing, a request path that a proxy in front and tgwh could read as two
 * different paths. nginx treats `\` as an ordinary byte and matches locations on its own
 * normalisation, while Bun builds `request.url` with the URL parser, which turns `\` into `/` and
 * resolves `.` and `..` (also as `%2e`): `/app/..\metrics` passed nginx's public `/app`
 * location and reached tgwh as `/metrics`. Telegram, browsers and fetch() never send such paths
 * (they normalise before sending), so refusing them costs nothing.
 *
 * Bun hands handlers only the normalised URL. Its `routes` matcher, though, sees the raw path,
 * and a `:param` route hands over each raw segment (percent-decoded). So every raw path is routed
 * through one of the patterns below, which check the segments and then pass the request on;
 * paths those patterns cannot see (an empty segment, more than MAX_SEGMENTS) are refused without
 * reaching the app. test/e2e/path-guard.test.ts sends raw request lines to prove it, so a Bun
 * release that changes this matching fails the tests instead of reopening the hole.
 */

/** Deeper than any tgwh route (the deepest has 4 segments); a deeper raw path is refused. */
export const MAX_SEGMENTS = 8;

/** Why one raw path segment (percent-decoded) is refused, or null. Pure. */
export function unsafeSegmentReason(segment: string): string | null {
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c === 0x5c) return "a backslash (\\ or %5C)";
    if (c === 0x23) return "a '#' (or %23)";
    if (c < 0x20 || c === 0x7f) return "a control character";
  }
  // A decoded %2F splits the segment into more: each part counts.
  for (const part of segment.split("/")) {
    if (part === "." || part === "..") return "a dot segment (. or .., also as %2e)";
  }
  // Encoded twice: harmless here, but a proxy that decodes once more would see the forms above.
  if (/%(2e|2f|5c)/i.test(segment)) return "a double-encoded '.', '/' or '\\'";
  return null;
}

/** The first refused segment's reason, or null when every segment is plain. Pure. */
export function unsafePathReason(segments: readonly string[]): string | null {
  for (const s of segments) {
    const reason = unsafeSegmentReason(s);
    if (reason) return reason;
  }
  return null;
}

type Handler = (req: Request, server: Server<unknown>) => Response | Promise<Response>;

const refusal = (reason: string) => errorResponse(400, `request path holds ${reason}; send the plain path`);

/** For raw paths the patterns cannot see: never passed on, since their raw form is unknown. */
export const refuseUnseen = (): Response => refusal(`an empty segment or more than ${MAX_SEGMENTS} segments`);

/**
 * Bun.serve `routes` that send every raw path through the segment check, then to `next`.
 * Spread the fast-path routes (the webhook) after these: an exact route wins over a pattern,
 * and an exact route's raw path is plain by definition.
 */
export function guardedRoutes(next: Handler): Record<string, Handler> {
  const check: Handler = (req, server) => {
    const params = (req as Request & { params?: Record<string, string> }).params ?? {};
    const reason = unsafePathReason(Object.values(params));
    return reason ? refusal(reason) : next(req, server);
  };
  // "/" exactly (tgwh has nothing there); "/*" takes what no pattern below can see.
  const routes: Record<string, Handler> = { "/": () => errorResponse(404, "no such route"), "/*": refuseUnseen };
  let pattern = "";
  for (let n = 0; n < MAX_SEGMENTS; n++) {
    pattern += `/:s${n}`;
    routes[pattern] = check;
    routes[`${pattern}/`] = check; // a trailing slash (Elysia serves /app/ as /app)
  }
  return routes;
}
