/**
 * The socket's remote address of each request. Bun.serve knows it, Elysia (mounted with
 * app.fetch) does not, so serve.ts notes it here and handlers read it back. A WeakMap: nothing
 * outlives its request.
 */
const peers = new WeakMap<Request, string>();

export function notePeerAddress(req: Request, address: string | null | undefined): void {
  if (address) peers.set(req, address);
}

/** The remote address of the TCP connection (the proxy's, behind nginx), or null if unknown. */
export function peerAddress(req: Request): string | null {
  return peers.get(req) ?? null;
}
