/**
 * WAL bytes per update (issue 17, item 1): how many pages each commit writes, and to which b-tree
 * (the jobs table and each index), for the service's own statements on a real file.
 *
 * SQLite's WAL holds whole pages: a commit appends one 24-byte frame header + one 4 KiB page for
 * every page it changed, however few bytes changed in it. So the cost of a row is not its size
 * but the number of distinct pages a commit touches, spread over the updates in that commit.
 * This script runs the job store's statements (src/store/sqlite: insertJobs, claimJobs, finishJob) in
 * explicit transactions, with checkpoints off, reads the frames each COMMIT appended to the -wal
 * file and maps each page number to its b-tree with the dbstat virtual table.
 * Run: bun bench/cost/wal-pages.ts [backlog=20000]
 */
import { closeSync, openSync, readSync, fstatSync } from "node:fs";
import { join } from "node:path";
import { openDb } from "../../src/store/sqlite/connection";
import { claimJobs } from "../../src/store/sqlite/claim";
import { insertJobs } from "../../src/store/sqlite/insert";
import { finishJob } from "../../src/store/sqlite/finish";
import { prepareJobStatements } from "../../src/store/sqlite/job-statements";
import type { Job as JobRow } from "../../src/store/rows";
import { removeDir, tempDir } from "../../test/support/tgwh";
import { updateJob } from "../lib/fill";
import { fmt, table } from "../lib/stats";
import { createChainOrder } from "../../src/store/sqlite/chains/access";

const FRAME_HEADER = 24;
const backlog = Number(process.argv[2] ?? 20_000);
const dir = tempDir("tgwh-walpages-");
const path = join(dir, "tgwh.db");

try {
  const db = openDb({ path, synchronous: "NORMAL", busyTimeoutMs: 5000, migrate: true });
  const sqlite = db.sqlite;
  sqlite.run("PRAGMA wal_autocheckpoint = 0"); // keep every frame in the WAL to count it
  const stmts = prepareJobStatements(sqlite);
  const chains = createChainOrder(sqlite);
  const pageSize = (sqlite.query("PRAGMA page_size").get() as { page_size: number }).page_size;
  const owner = "bench/1";
  let nextId = 1_000_000;
  const now = () => Date.now();
  const finish = (j: JobRow) => finishJob(stmts, chains, { ...j, owner }, { type: "done", error: null }, now());

  // A realistic table: `backlog` done jobs behind, then pending ones arriving.
  sqlite.run("BEGIN");
  for (let i = 0; i < backlog; i += 500) {
    insertJobs(stmts, chains, Array.from({ length: 500 }, () => updateJob(nextId++, now())), now());
  }
  // Each chat's jobs run one at a time: claim and finish the heads until all are done.
  for (;;) {
    const heads = claimJobs(stmts, { owner, leaseMs: 30_000, limit: backlog, now: now() + 1 });
    if (heads.length === 0) break;
    for (const j of heads) finish(j);
  }
  sqlite.run("COMMIT");
  sqlite.run("PRAGMA wal_checkpoint(TRUNCATE)");

  const walFd = openSync(`${path}-wal`, "r");
  let walOffset = fstatSync(walFd).size;
  /** Page numbers of the frames appended since the last call. */
  const newFrames = (): number[] => {
    const size = fstatSync(walFd).size;
    if (walOffset === 0 && size > 0) walOffset = 32; // the WAL header
    const pages: number[] = [];
    const hdr = Buffer.alloc(FRAME_HEADER);
    for (let off = walOffset; off + FRAME_HEADER + pageSize <= size; off += FRAME_HEADER + pageSize) {
      readSync(walFd, hdr, 0, FRAME_HEADER, off);
      pages.push(hdr.readUInt32BE(0));
    }
    walOffset = size;
    return pages;
  };
  const ownerOf = () => {
    const m = new Map<number, string>();
    for (const r of sqlite.query("SELECT name, pageno FROM dbstat").all() as { name: string; pageno: number }[]) m.set(r.pageno, r.name);
    return m;
  };

  interface Phase {
    name: string;
    units: number;
    commits: number;
    frames: number;
    byTree: Map<string, number>;
    us: number;
  }
  const phases: Phase[] = [];
  const measure = (name: string, commits: number, unitsPerCommit: number, body: () => void) => {
    const ph: Phase = { name, units: commits * unitsPerCommit, commits, frames: 0, byTree: new Map(), us: 0 };
    const pagesSeen: number[][] = [];
    for (let c = 0; c < commits; c++) {
      const t = performance.now();
      sqlite.run("BEGIN IMMEDIATE");
      body();
      sqlite.run("COMMIT");
      ph.us += (performance.now() - t) * 1000;
      pagesSeen.push(newFrames());
    }
    const owners = ownerOf();
    for (const pages of pagesSeen) {
      ph.frames += pages.length;
      for (const p of pages) {
        const k = owners.get(p) ?? "(freelist/other)";
        ph.byTree.set(k, (ph.byTree.get(k) ?? 0) + 1);
      }
    }
    phases.push(ph);
  };

  // Ingest commits of B new updates (1,000 chats, the bench's traffic).
  for (const b of [1, 5, 10, 25, 50, 200]) {
    measure(`insert, ${b} per commit`, Math.max(20, Math.floor(2000 / b)), b, () => {
      insertJobs(stmts, chains, Array.from({ length: b }, () => updateJob(nextId++, now())), now());
    });
  }
  // The worker: one claim of 32 per commit, then 32 finishes (done + hand the chain on) per commit.
  let claimed: JobRow[] = [];
  measure("claim, 32 per commit", 30, 32, () => {
    claimed.push(...claimJobs(stmts, { owner, leaseMs: 30_000, limit: 32, now: now() + 1 }));
  });
  measure("finish (done), 32 per commit", 30, 32, () => {
    for (const j of claimed.splice(0, 32)) finish(j);
  });
  // The service during a burst: each commit carries the new updates, a claim of 4 (1/8 of the
  // slots while the webhook is saturated) and the 4 finishes that freed them.
  claimed = claimJobs(stmts, { owner, leaseMs: 30_000, limit: 4, now: now() + 1 });
  measure("burst commit: 10 inserts + 4 finishes + claim of 4", 100, 10, () => {
    insertJobs(stmts, chains, Array.from({ length: 10 }, () => updateJob(nextId++, now())), now());
    for (const j of claimed.splice(0, 4)) finish(j);
    claimed.push(...claimJobs(stmts, { owner, leaseMs: 30_000, limit: 4, now: now() + 1 }));
  });
  closeSync(walFd);

  const trees = [...new Set(phases.flatMap((p) => [...p.byTree.keys()]))].sort();
  console.log(`WAL frames (${pageSize} B page + ${FRAME_HEADER} B header each) per commit and per unit, by b-tree; ${fmt(backlog)} done jobs in the table before`);
  console.log(
    table(
      ["commit", "frames / commit", "frames / unit", "WAL KiB / unit", "µs / unit (wall, incl. COMMIT)", ...trees.map((t) => `${t} / commit`)],
      phases.map((p) => [
        p.name,
        (p.frames / p.commits).toFixed(1),
        (p.frames / p.units).toFixed(2),
        ((p.frames * (pageSize + FRAME_HEADER)) / p.units / 1024).toFixed(2),
        (p.us / p.units).toFixed(1),
        ...trees.map((t) => ((p.byTree.get(t) ?? 0) / p.commits).toFixed(1)),
      ]),
    ),
  );

  // Bytes per job in the table and each index (cells and their share of page space).
  sqlite.run("PRAGMA wal_checkpoint(TRUNCATE)");
  const rows = (sqlite.query("SELECT count(*) AS n FROM jobs").get() as { n: number }).n;
  const pending = (sqlite.query("SELECT count(*) AS n FROM jobs WHERE state IN ('pending', 'running')").get() as { n: number }).n;
  const stat = sqlite
    .query("SELECT name, count(*) AS pages, sum(ncell) AS cells, sum(payload) AS payload, sum(pgsize - unused) AS used FROM dbstat GROUP BY name ORDER BY used DESC")
    .all() as { name: string; pages: number; cells: number; payload: number; used: number }[];
  console.log("");
  console.log(`b-tree sizes: ${fmt(rows)} jobs (${fmt(pending)} pending or running; the partial indexes hold only those)`);
  console.log(
    table(
      ["b-tree", "pages", "entries (leaf + interior cells)", "payload bytes / job", "used bytes / job (cells + headers)"],
      stat
        .filter((s) => s.name.startsWith("jobs") || s.name === "sqlite_schema")
        .map((s) => [s.name, fmt(s.pages), fmt(s.cells), (s.payload / rows).toFixed(0), (s.used / rows).toFixed(0)]),
    ),
  );
  db.close();
} finally {
  removeDir(dir);
}
