import { swagger } from "@elysiajs/swagger";
import { Elysia } from "elysia";
// Embedded in the compiled binary by `bun build --compile`: the UI works on a VM without internet.
import bundleJs from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import css from "swagger-ui-dist/swagger-ui.css" with { type: "file" };
import favicon16 from "swagger-ui-dist/favicon-16x16.png" with { type: "file" };
import favicon32 from "swagger-ui-dist/favicon-32x32.png" with { type: "file" };
import initJs from "./docs-init.client.js" with { type: "text" };
import { VERSION } from "../version";

export const DOCS_PATH = "/admin/docs";

/** The page: every asset from this binary (no CDN), the initializer as a file (the CSP forbids inline script). */
const INDEX_HTML = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>tgwh admin API</title>
  <link rel="icon" type="image/png" href="/admin/docs/favicon-32x32.png">
  <link rel="stylesheet" href="/admin/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/admin/docs/swagger-ui-bundle.js" charset="utf-8"></script>
  <script src="/admin/docs/init.js" charset="utf-8"></script>
</body>
</html>
`;
export const SPEC_PATH = "/admin/openapi.json";

/**
 * Only this origin, no inline script, no framing. Swagger UI's icons are data: SVG images in its
 * CSS: allowed (an image cannot run code). The browser test fails on any CSP violation the
 * page reports, so this stays exactly what the UI needs.
 */
export const DOCS_CSP = "default-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const securityHeaders = {
  "content-security-policy": DOCS_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/** Asset name → embedded file and its type (with charset: Chromium reads an unlabelled bundle as Latin-1). */
const ASSETS: Record<string, { file: string; text?: string; type: string }> = {
  "swagger-ui-bundle.js": { file: bundleJs, type: "text/javascript; charset=utf-8" },
  "swagger-ui.css": { file: css, type: "text/css; charset=utf-8" },
  "favicon-16x16.png": { file: favicon16, type: "image/png" },
  "favicon-32x32.png": { file: favicon32, type: "image/png" },
  "init.js": { file: "", text: initJs, type: "text/javascript; charset=utf-8" },
};

const notFound = () =>
  new Response(JSON.stringify({ ok: false, error: "no such docs asset" }), { status: 404, headers: { "content-type": "application/json" } });

/**
 * Swagger UI and the OpenAPI document. Who may see them: the page, its assets and the spec are
 * served without a token, because a browser cannot send a bearer token before the user pasted
 * one into "Authorize", and they hold no data and no secret (only the API's shape, which is in
 * the source anyway). Every call made from the page carries the token and gets the route's RBAC.
 * Operators who want the page itself private put it behind nginx's allowlist or basic auth.
 */
export function createAdminDocs() {
  return (
    new Elysia({ name: "tgwh-admin-docs" })
      // path === specPath: the plugin's own page (which loads Swagger UI from unpkg) is replaced
      // by the spec route, so only our self-hosted page exists. test/e2e/admin-docs checks it.
      .use(
        swagger({
          provider: "swagger-ui",
          path: SPEC_PATH,
          specPath: SPEC_PATH,
          excludeMethods: ["OPTIONS", "HEAD"],
          documentation: {
            info: {
              title: "tgwh admin API",
              version: VERSION,
              description:
                "Operate tgwh: queue, jobs, webhook, notifications, service accounts and the audit log. Authorize with a service-account token (on the VM: `sudo tgwh-admin token create --name NAME --role viewer|operator|admin|service`). Roles: viewer reads; operator also retries jobs, sends notifications and manages the webhook; admin also manages service accounts; service may only POST /internal/notifications.",
            },
            tags: [
              { name: "queue", description: "Queue overview" },
              { name: "jobs", description: "Jobs and stored updates" },
              { name: "webhook", description: "Telegram webhook registration" },
              { name: "notifications", description: "Outgoing messages" },
              { name: "internal", description: "For other services (role service)" },
              { name: "service-accounts", description: "Tokens and roles (admin)" },
              { name: "audit", description: "Who changed what" },
              { name: "telegram", description: "Telegram's side" },
              { name: "ops", description: "Health and metrics" },
              { name: "auth", description: "Seamless Telegram Auth" },
            ],
            components: {
              securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "tgwh_ service-account token", description: "`sudo tgwh-admin token create` prints one" } },
            },
          },
        }),
      )
      .get(
        DOCS_PATH,
        () => new Response(INDEX_HTML, { headers: { "content-type": "text/html; charset=utf-8", ...securityHeaders } }),
        { detail: { hide: true } },
      )
      .get(
        `${DOCS_PATH}/:asset`,
        ({ params }) => {
          const a = Object.hasOwn(ASSETS, params.asset) ? ASSETS[params.asset]! : null;
          if (!a) return notFound();
          const body = a.text ?? Bun.file(a.file);
          return new Response(body, { headers: { "content-type": a.type, ...securityHeaders, "cache-control": "public, max-age=3600" } });
        },
        { detail: { hide: true } },
      )
  );
}
