/**
 * The one HTTP error type: routes throw it, http.ts turns it into `{ok:false, error}` with the
 * status. Messages are written for the caller and must never contain a secret.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/**
 * Headers of every JSON answer: nosniff, so a browser never reads an answer that echoes input as
 * HTML or script.
 */
export const JSON_HEADERS: Readonly<Record<string, string>> = { "content-type": "application/json", "x-content-type-options": "nosniff" };

/** A JSON answer: `body` with `status`, plus extra headers (Retry-After, WWW-Authenticate). */
export const jsonResponse = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });

/** The `{ok:false, error}` answer every route gives for a refused request. */
export const errorResponse = (status: number, error: string, headers: Record<string, string> = {}) => jsonResponse(status, { ok: false, error }, headers);
