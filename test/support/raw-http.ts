/**
 * HTTP/1.1 over a plain socket, for requests a normal client would never send: fetch() and curl
 * normalise the path (`..`, `\`) before sending, and always finish the body they announce.
 */

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses one HTTP/1.1 answer (Content-Length or chunked body) from raw text; null while incomplete. */
function parse(raw: string, head: boolean): RawResponse | null {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const [statusLine, ...lines] = raw.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(":");
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const rest = raw.slice(end + 4);
  let body: string;
  if (head) body = ""; // an answer to HEAD has headers only, Content-Length included
  else if (headers["content-length"] !== undefined) {
    const n = Number(headers["content-length"]);
    if (Buffer.byteLength(rest) < n) return null;
    body = rest;
  } else if (headers["transfer-encoding"] === "chunked") {
    if (!rest.includes("0\r\n\r\n")) return null;
    body = "";
    let at = 0;
    for (;;) {
      const nl = rest.indexOf("\r\n", at);
      const size = parseInt(rest.slice(at, nl), 16);
      if (!size) break;
      body += rest.slice(nl + 2, nl + 2 + size);
      at = nl + 2 + size + 2;
    }
  } else body = rest;
  return { status: Number(statusLine!.split(" ")[1]), headers, body };
}

export interface RawRequest {
  method: string;
  /** Sent byte for byte as the request target. */
  target: string;
  headers?: Record<string, string>;
  body?: string;
  /** Announce this Content-Length but send only `body` (a body that never finishes). */
  declaredLength?: number;
  timeoutMs?: number;
}

/** Sends one request on a new connection to 127.0.0.1:port and resolves with the answer. */
export async function rawRequest(port: number, r: RawRequest): Promise<RawResponse> {
  const body = r.body ?? "";
  const headers: Record<string, string> = { Host: `127.0.0.1:${port}`, Connection: "close", ...r.headers };
  if (r.method !== "GET" && r.method !== "HEAD") headers["Content-Length"] = String(r.declaredLength ?? Buffer.byteLength(body));
  let raw = "";
  let done!: (v: RawResponse) => void;
  let fail!: (e: Error) => void;
  const answer = new Promise<RawResponse>((res, rej) => ((done = res), (fail = rej)));
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        raw += chunk.toString();
        const parsed = parse(raw, r.method === "HEAD");
        if (parsed) done(parsed);
      },
      close() {
        const parsed = parse(raw, r.method === "HEAD");
        if (parsed) done(parsed);
        else fail(new Error(`connection closed before a full answer to ${r.method} ${r.target}: ${JSON.stringify(raw.slice(0, 200))}`));
      },
      error(_s, err) {
        fail(err);
      },
    },
  });
  socket.write(`${r.method} ${r.target} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n${body}`);
  const timeoutMs = r.timeoutMs ?? 10_000;
  const timer = setTimeout(() => fail(new Error(`no answer to ${r.method} ${r.target} within ${timeoutMs} ms`)), timeoutMs);
  try {
    return await answer;
  } finally {
    clearTimeout(timer);
    socket.end();
  }
}
