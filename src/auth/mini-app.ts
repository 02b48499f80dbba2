import { Elysia } from "elysia";
import appCss from "./mini-app/app.css" with { type: "text" };
import appJs from "./mini-app/app.client.js" with { type: "text" };
import indexPage from "./mini-app/index.html" with { type: "text" };

/**
 * The Mini App page, embedded in the binary. Its script and style are files of their own, so
 * the CSP needs no 'unsafe-inline'; Telegram's telegram-web-app.js is the only outside script.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self' https://telegram.org",
  "style-src 'self'",
  "img-src 'self' data: https://t.me",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join("; ");

// @types/bun types *.html as an HTMLBundle (for Bun.serve routes); with type "text" it is the file's text.
const indexHtml = indexPage as unknown as string;

const asset = (body: string, type: string, cache: string) => () =>
  new Response(body, {
    headers: {
      "content-type": `${type}; charset=utf-8`,
      "cache-control": cache,
      "content-security-policy": CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    },
  });

export function createMiniAppRoutes() {
  // The page itself is not cached: a new release's page must pick up its matching script.
  return new Elysia({ name: "mini-app" })
    .get("/app", asset(indexHtml, "text/html", "no-store"), {
      detail: { tags: ["auth"], summary: "The Mini App page that signs the user in with initData (open it from the bot)" },
    })
    .get("/app/app.js", asset(appJs, "text/javascript", "no-cache"), { detail: { hide: true } })
    .get("/app/app.css", asset(appCss, "text/css", "no-cache"), { detail: { hide: true } });
}
