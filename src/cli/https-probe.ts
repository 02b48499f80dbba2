import { connect, type PeerCertificate } from "node:tls";

/**
 * How `tgwh smoke` reaches the public endpoint: the URL's host name for SNI, the Host header and
 * certificate checks, optionally connecting to another address (like curl --resolve), e.g.
 * 127.0.0.1 on the VM itself, where nginx lets the smoke test through.
 */
export interface HttpsTarget {
  url: URL;
  /** Connect here instead of resolving the URL's host (an IP address). */
  resolve: string | null;
  /** Extra trusted CA certificates (PEM), e.g. a staging CA; the system store otherwise. */
  ca: string | undefined;
}

export const targetPort = (url: URL) => Number(url.port || 443);

export interface TlsFacts {
  authorized: boolean;
  authorizationError: string | null;
  protocol: string | null;
  subject: string;
  issuer: string;
  validTo: number;
  altNames: string;
  serial: string;
}

/** One TLS handshake with verification against the URL's host name; never throws on a bad certificate. */
export function probeTls(t: HttpsTarget, timeoutMs: number): Promise<TlsFacts> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: t.resolve ?? t.url.hostname,
      port: targetPort(t.url),
      servername: t.url.hostname,
      ca: t.ca,
      rejectUnauthorized: false,
      ALPNProtocols: ["h2", "http/1.1"],
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TLS handshake within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate(false) as PeerCertificate;
      const authErr = socket.authorizationError ? String(socket.authorizationError) : null;
      resolve({
        authorized: socket.authorized,
        authorizationError: authErr,
        protocol: socket.getProtocol() ?? null,
        subject: String(cert?.subject?.CN ?? ""),
        issuer: String(cert?.issuer?.CN ?? cert?.issuer?.O ?? ""),
        validTo: cert?.valid_to ? Date.parse(cert.valid_to) : NaN,
        altNames: cert?.subjectaltname ?? "",
        serial: cert?.serialNumber ?? "",
      });
      socket.end();
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** fetch against the target: same URL semantics, but connecting to `resolve` when given. */
export function targetFetch(t: HttpsTarget, path: string, init: RequestInit & { timeoutMs: number }): Promise<Response> {
  const host = t.resolve ? (t.resolve.includes(":") ? `[${t.resolve}]` : t.resolve) : t.url.hostname;
  const url = `https://${host}:${targetPort(t.url)}${path}`;
  const headers = new Headers(init.headers);
  headers.set("host", t.url.host);
  return fetch(url, {
    ...init,
    headers,
    signal: AbortSignal.timeout(init.timeoutMs),
    tls: { serverName: t.url.hostname, ...(t.ca ? { ca: t.ca } : {}) },
  } as RequestInit);
}
