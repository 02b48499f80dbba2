import { Elysia } from "elysia";
import appCss from "./mini-app/app.css" with { type: "text" };
import appJs from "./mini-app/app.client.js" with { type: "text" };
import indexPage from "./mini-app/index.html" with { type: "text" };

/**
 * Who may show /app inside a frame. Telegram's mobile and desktop apps open a Mini App in their
 * own webview as the top-level page, so framing does not concern them; the web clients
 * (web.telegram.org: Web K at /k/, Web A at /a/; webk. and webz. are their older names that still
 * serve them) show it in an iframe. No other site may: a page that framed the sign-in could
 * overlay it to trick a click (clickjacking) or look like Telegram.
 */
export const MINI_APP_FRAME_ANCESTORS = ["https://web.telegram.org", "https://webk.telegram.org", "https://webz.telegram.org"];

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
  `frame-ancestors ${MINI_APP_FRAME_ANCESTORS.join(" ")}`,
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
