/**
 * Contender 5 (the durable floor): the least any handler must do to ack durably on this disk.
 * Bun.serve checks the secret, parses the JSON, appends the body to a file and answers 200 only
 * after an fdatasync that started after the append. Group commit as in tgwh's writer: bodies that
 * arrive while a sync is in flight are appended together and share the next sync (at most two in
 * flight). No database, no index, no worker, no log. tgwh ÷ this is how close tgwh comes to what
 * the disk allows; this ÷ grammY is what durability itself costs here.
 * Usage: bun bench/servers/durable-floor.ts  (prints {"listen": url} once listening)
 * Env: BENCH_SECRET, BENCH_FLOOR_FILE (default: a file in the OS temp folder, removed at exit).
 */
import { closeSync, fdatasync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SECRET = process.env.BENCH_SECRET ?? "bench_secret_0123456789";
const file = process.env.BENCH_FLOOR_FILE ?? join(tmpdir(), `tgwh-floor-${process.pid}.log`);
const fd = openSync(file, "w");
const MAX_SYNCS = 2;

let queued: { line: string; done: () => void }[] = [];
let syncing = 0;
let scheduled = false;

function appendAndSync(): void {
  scheduled = false;
  if (syncing >= MAX_SYNCS || queued.length === 0) return;
  const batch = queued;
  queued = [];
  writeSync(fd, batch.map((q) => q.line).join(""));
  syncing++;
  fdatasync(fd, (err) => {
    syncing--;
    if (err) throw err;
    for (const q of batch) q.done();
    appendAndSync();
  });
}

const ok = () => new Response('{"ok":true}', { headers: { "content-type": "application/json" } });

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  async fetch(req) {
    if (req.headers.get("x-telegram-bot-api-secret-token") !== SECRET) return new Response("unauthorized", { status: 401 });
    const text = await req.text();
    const update = JSON.parse(text) as { update_id?: unknown };
    if (typeof update.update_id !== "number") return new Response("no update_id", { status: 400 });
    return new Promise<Response>((resolve) => {
      queued.push({ line: `${text}\n`, done: () => resolve(ok()) });
      if (!scheduled) {
        scheduled = true;
        setImmediate(appendAndSync);
      }
    });
  },
});
console.log(JSON.stringify({ listen: `http://127.0.0.1:${server.port}` }));
process.on("SIGTERM", () => {
  closeSync(fd);
  if (!process.env.BENCH_FLOOR_FILE) rmSync(file, { force: true });
  process.exit(0);
});
