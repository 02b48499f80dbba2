import { HttpError } from "./http-error";

/**
 * Reading a JSON request body without letting its sender spend our CPU or memory: the byte cap
 * holds while the body streams in (a chunked body has no Content-Length to check up front), and
 * the nesting depth is checked by one linear scan before JSON.parse, because everything after
 * the parse (schema validation, JSON.stringify, the admin views) walks the value recursively:
 * without the scan, 16,000 nested arrays hold the event loop for seconds.
 * Every route that takes a body reads it here (http.ts refuses, at start, a route that does not).
 */

export interface JsonBodyLimits {
  /** Bytes the body may have; more is 413. */
  maxBytes: number;
  /** Arrays and objects nested inside each other; deeper is 400. A flat object is depth 1. */
  maxDepth: number;
}

/**
 * JSON must be UTF-8 (RFC 8259). A lenient decode would keep U+FFFD in place of the bad bytes:
 * data the sender never sent. ignoreBOM keeps a BOM, so JSON.parse rejects it.
 */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export const tooLarge = (maxBytes: number) => new HttpError(413, `body exceeds ${maxBytes} bytes`);

/** The body as text, or HttpError 413 (over maxBytes) / 400 (not UTF-8, unreadable). */
export async function readBodyText(req: Request, maxBytes: number): Promise<string> {
  const declared = req.headers.get("content-length");
  if (declared !== null && /^\d{1,15}$/.test(declared)) {
    if (Number(declared) > maxBytes) throw tooLarge(maxBytes);
    // HTTP framing ends the body at Content-Length, so it fits; Bun's native read is far cheaper
    // than pulling chunks in JS (this is the webhook's hot path). Checked again all the same.
    const bytes = await readAll(() => req.arrayBuffer());
    if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
    return decodeUtf8(bytes);
  }
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await readAll(() => reader.read());
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return decodeUtf8(Buffer.concat(chunks, size));
}

async function readAll<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch {
    throw new HttpError(400, "could not read the request body (the connection broke off?)");
  }
}

function decodeUtf8(bytes: ArrayBuffer | Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new HttpError(400, "body is not valid UTF-8; JSON must be UTF-8 encoded");
  }
}

/**
 * Whether arrays/objects nest deeper than maxDepth: one pass that skips over strings with the
 * native indexOf (most bytes of an update are inside strings), so it costs a fraction of
 * JSON.parse and allocates nothing; cheap enough for the webhook. Malformed JSON may pass;
 * JSON.parse refuses it next.
 */
export function jsonDepthExceeds(text: string, maxDepth: number): boolean {
  if (text.length <= maxDepth || fewOpenings(text, maxDepth)) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = closingQuote(text, i);
      if (i < 0) return false; // unterminated string: not JSON
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * True when the text holds at most `limit` '[' and '{' in all (strings included), so it cannot
 * nest deeper: the usual case for an update (a few objects), decided by a few native searches.
 */
function fewOpenings(text: string, limit: number): boolean {
  let seen = 0;
  for (const bracket of ["{", "["]) {
    for (let at = text.indexOf(bracket); at >= 0; at = text.indexOf(bracket, at + 1)) {
      if (++seen > limit) return false;
    }
  }
  return true;
}

/** The index of the quote that closes the string opened at `open`, or -1. Linear overall. */
function closingQuote(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return -1;
    // Escaped when an odd number of backslashes precede it.
    let backslashes = 0;
    for (let k = q - 1; k > open && text.charCodeAt(k) === 0x5c; k--) backslashes++;
    if (backslashes % 2 === 0) return q;
    from = q + 1;
  }
}

export const tooDeep = (maxDepth: number) => `JSON nests arrays/objects deeper than ${maxDepth} levels; nothing this route accepts does`;

/** JSON.parse after the depth check; HttpError 400 with what is wrong. */
export function parseJson(text: string, maxDepth: number): unknown {
  if (jsonDepthExceeds(text, maxDepth)) throw new HttpError(400, tooDeep(maxDepth));
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "body is not valid JSON");
  }
}

/** The media type of a Content-Type header, lower case, without parameters. */
export const mediaType = (header: string | null) => (header ?? "").split(";")[0]!.trim().toLowerCase();

export interface ReadJsonOptions {
  /**
   * The route works without a body: an empty one reads as `{}` (Elysia's parser would otherwise
   * try the body again). Without this an empty body is 400.
   */
  optional?: boolean;
}

/** Content type, byte cap, depth cap, parse: the whole read, or an HttpError (415/413/400). */
export async function readJsonBody(req: Request, limits: JsonBodyLimits, opts: ReadJsonOptions = {}): Promise<unknown> {
  const type = mediaType(req.headers.get("content-type"));
  const declaresNone = req.headers.get("content-length") === "0" || (!req.body && !req.headers.has("transfer-encoding"));
  if (type !== "application/json" && !(declaresNone && type === "")) {
    throw new HttpError(415, "Content-Type must be application/json");
  }
  const text = await readBodyText(req, limits.maxBytes);
  if (text.trim() === "") {
    if (opts.optional) return {};
    throw new HttpError(400, "request body is empty; send a JSON object");
  }
  return parseJson(text, limits.maxDepth);
}

/** Marks a parse hook as ours, so http.ts can tell a capped route from one that is not. */
const CAPPED = Symbol.for("tgwh.cappedJsonBody");

export const isCappedParser = (fn: unknown): boolean => typeof fn === "function" && (fn as unknown as Record<symbol, unknown>)[CAPPED] === true;

/**
 * An Elysia `parse` hook that reads the body with readJsonBody. `before` runs first and may throw
 * (a rate limit, the bearer token check), so a refused caller costs no read and no parse.
 */
export function cappedJson<C extends { request: Request }>(limits: JsonBodyLimits, opts: ReadJsonOptions & { before?: (ctx: C) => unknown } = {}) {
  const hook = async (ctx: C): Promise<unknown> => {
    if (opts.before) await opts.before(ctx);
    return readJsonBody(ctx.request, limits, opts);
  };
  return Object.assign(hook, { [CAPPED]: true });
}

/** Methods whose requests carry no body we read: every other route must declare how it reads one. */
const BODILESS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Checks Elysia's route table: every route that may take a body reads it through cappedJson or
 * declares `parse: "none"`. Returns the offenders, for a fail-at-start error.
 */
export function uncappedBodyRoutes(routes: readonly { method: string; path: string; hooks?: { parse?: unknown } }[]): string[] {
  return routes
    .filter((r) => !BODILESS.has(r.method.toUpperCase()))
    .filter((r) => {
      const parse = r.hooks?.parse as { fn?: unknown }[] | undefined;
      return !(Array.isArray(parse) && parse.length === 1 && (parse[0]!.fn === "none" || isCappedParser(parse[0]!.fn)));
    })
    .map((r) => `${r.method} ${r.path}`);
}
