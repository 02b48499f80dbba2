/**
 * Contender 1 (baseline): a bare Bun.serve that reads the POST body and answers 200. Nothing is
 * parsed or stored; this is the ceiling of the HTTP stack on this machine.
 * Usage: bun bench/servers/bare.ts  (prints {"listen": url} once listening)
 */
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  async fetch(req) {
    await req.text();
    return new Response('{"ok":true}', { headers: { "content-type": "application/json" } });
  },
});
console.log(JSON.stringify({ listen: `http://127.0.0.1:${server.port}` }));
