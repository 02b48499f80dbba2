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
