/**
 * Throwaway PostgreSQL servers for tests: initdb into a temporary folder, a free loopback port,
 * the unix socket inside that folder, stopped by pid. Debian's `postgresql` package must be
 * installed (scripts/test-prereqs.sh installs it); without it the PostgreSQL tests skip with a
 * warning. PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user
 * (setpriv, which execs: the pid we hold is the postmaster's) in a folder that user owns.
 *
 * Tests get a fresh database each from a migrated template (CREATE DATABASE … TEMPLATE: a file
 * copy, tens of milliseconds), so no test sees another's rows and none pays for migrations.
 * The service connects as `tgwh`, an ordinary role with a password, as in production; the
 * harness administers the server as the superuser over the socket-less TCP port too.
 */
import { SQL } from "bun";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createPostgresStore } from "../../src/store/postgres";
import { freePort } from "./redis";

function findBinDir(): string {
  if (process.env.TGWH_TEST_PG_BIN) return process.env.TGWH_TEST_PG_BIN;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "postgres"))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  return join(root, versions[0] ?? "15", "bin");
}

export const PG_BIN = findBinDir();
/** make test installs it (scripts/test-prereqs.sh); with TGWH_TEST_PREREQS=skip the PostgreSQL tests skip instead. */
export const HAVE_POSTGRES = existsSync(join(PG_BIN, "postgres")) && existsSync(join(PG_BIN, "initdb"));
if (!HAVE_POSTGRES) console.warn(`${PG_BIN}/postgres is missing: the PostgreSQL tests are skipped (apt-get install -y postgresql)`);

/** The role the service connects as, and its password (test-only, never a real credential). */
export const PG_USER = "tgwh";
export const PG_PASSWORD = "pg-test-Pa55_word";
const SUPERUSER_PASSWORD = "pg-test-superuser";
const TEMPLATE = "tgwh_template";

const AS_ROOT = process.getuid?.() === 0;
/** Runs a PostgreSQL program as the `postgres` user when we are root (setpriv execs: same pid). */
const asServerUser = (argv: string[]) => (AS_ROOT ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", ...argv] : argv);
/**
 * The server itself also gets SIGQUIT (immediate shutdown) when this test process dies, however
 * it dies: `bun test` ends without running exit handlers that could stop it, and a killed run
 * must not leave servers behind. setpriv sets the parent-death signal after switching users.
 */
const serverCommand = (argv: string[]) =>
  AS_ROOT
    ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--pdeathsig=SIGQUIT", "--", ...argv]
    : ["setpriv", "--pdeathsig=SIGQUIT", "--", ...argv];

export interface TestPostgres {
  port: number;
  /** postgres://tgwh:…@127.0.0.1:port/<database> */
  url(database: string): string;
  /** A new database, migrated (copied from the template), owned by tgwh; returns its URL. */
  createDatabase(name?: string): Promise<{ name: string; url: string; drop(): Promise<void> }>;
  /** An empty database without tgwh's tables (migration tests, `store copy` targets). */
  createEmptyDatabase(name?: string): Promise<{ name: string; url: string; drop(): Promise<void> }>;
  /** Runs SQL as the superuser in `database` (default postgres). */
  admin<T = Record<string, unknown>>(text: string, params?: unknown[], database?: string): Promise<T[]>;
  pid(): number | null;
  /** Fast shutdown (SIGINT), waits for the postmaster to exit. Data stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data (after stop). */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  dispose(): Promise<void>;
  log(): string;
}

const running = new Map<Subprocess, string>();
// A script that exits normally stops its servers here; `bun test` exits without running this, so
// there the parent-death signal stops them (serverCommand) and sweepStale() removes their folders.
process.on("exit", () => {
  for (const [p, dir] of running) {
    p.kill("SIGQUIT");
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  }
});

const PREFIX = "tgwh-pg-";

/** Folders of earlier runs whose server is gone (no live postmaster.pid), older than ten minutes. */
function sweepStale(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir()).filter((n) => n.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(tmpdir(), name);
    try {
      if (Date.now() - statSync(dir).mtimeMs < 10 * 60_000) continue; // maybe another run's, still starting
      const pidFile = join(dir, "data", "postmaster.pid");
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").split("\n")[0]) : 0;
      if (pid > 0 && isAlive(pid)) continue;
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // not ours to remove, or gone meanwhile
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

let counter = 0;
const uniqueName = (prefix: string) => `${prefix}_${process.pid}_${Date.now().toString(36)}_${++counter}`;

export interface PostgresOptions {
  /** Flush commits to disk as a production server does (the benchmarks); tests run with fsync off. */
  durable?: boolean;
}

export async function startPostgres(opts: PostgresOptions = {}): Promise<TestPostgres> {
  if (!HAVE_POSTGRES) throw new Error(`${PG_BIN}/postgres is missing: apt-get install -y postgresql (.ci/run installs it)`);
  sweepStale();
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  const data = join(dir, "data");
  const logPath = join(dir, "postgres.log");
  const pwfile = join(dir, "pwfile");
  writeFileSync(pwfile, `${SUPERUSER_PASSWORD}\n`);
  if (AS_ROOT) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
    chownSync(pwfile, uid, gid);
  }
  const init = Bun.spawnSync(
    asServerUser([join(PG_BIN, "initdb"), "-D", data, "-U", "postgres", `--pwfile=${pwfile}`, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
    { stdout: "pipe", stderr: "pipe" },
  );
  if (init.exitCode !== 0) throw new Error(`initdb failed (${init.exitCode}):\n${init.stderr.toString()}`);
  rmSync(pwfile);
  const port = await freePort();
  let proc: Subprocess | null = null;
  const readLog = () => (existsSync(logPath) ? readFileSync(logPath, "utf8") : "");

  async function spawn() {
    // fsync off: these servers hold test data only; what the tests check (commit order, locks,
    // synchronous_commit as a session setting) does not depend on the disk flush.
    const flush = opts.durable ? [] : ["-c", "fsync=off", "-c", "full_page_writes=off"];
    const p = Bun.spawn(
      serverCommand([
        join(PG_BIN, "postgres"), "-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1",
        ...flush, "-c", "max_connections=300", "-c", "shared_buffers=128MB",
        "-c", `log_destination=stderr`,
      ]),
      { stdout: "ignore", stderr: Bun.file(logPath), stdin: "ignore" },
    );
    proc = p;
    running.set(p, dir);
    p.exited.then(() => running.delete(p));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (p.exitCode !== null) throw new Error(`postgres exited with ${p.exitCode}:\n${readLog()}`);
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 20 s:\n${readLog()}`);
      const probe = Bun.spawnSync([join(PG_BIN, "pg_isready"), "-h", "127.0.0.1", "-p", String(port), "-q"]);
      if (probe.exitCode === 0) return;
      await Bun.sleep(50);
    }
  }

  await spawn();
  const adminUrl = (db: string) => `postgres://postgres:${SUPERUSER_PASSWORD}@127.0.0.1:${port}/${db}`;
  const url = (db: string) => `postgres://${PG_USER}:${encodeURIComponent(PG_PASSWORD)}@127.0.0.1:${port}/${db}`;
  async function admin<T>(text: string, params: unknown[] = [], database = "postgres"): Promise<T[]> {
    const sql = new SQL({ url: adminUrl(database), max: 1, database });
    try {
      return (await sql.unsafe(text, params as never[])) as T[];
    } finally {
      await sql.close();
    }
  }
  await admin(`CREATE ROLE ${PG_USER} LOGIN PASSWORD '${PG_PASSWORD}'`);
  await admin(`CREATE DATABASE ${TEMPLATE} OWNER ${PG_USER}`);
  const migrated = await createPostgresStore({ url: url(TEMPLATE), applicationName: "tgwh test template", migrate: true, maxConnections: 1 });
  await migrated.close();

  async function drop(name: string) {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
  async function create(name: string | undefined, template: string) {
    const db = name ?? uniqueName("t");
    await admin(`CREATE DATABASE ${db} OWNER ${PG_USER} TEMPLATE ${template}`);
    return { name: db, url: url(db), drop: () => drop(db) };
  }

  const stop = async () => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    p.kill("SIGINT");
    await p.exited;
  };
  return {
    port,
    url,
    createDatabase: (name) => create(name, TEMPLATE),
    createEmptyDatabase: (name) => create(name, "template0"),
    admin,
    pid: () => proc?.pid ?? null,
    stop,
    restart: async () => {
      await stop();
      await spawn();
    },
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    log: readLog,
  };
}

function postgresIds(): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("postgres:"));
  if (!line) throw new Error("no `postgres` user: the postgresql package creates it (apt-get install -y postgresql)");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

let shared: Promise<TestPostgres> | null = null;
/**
 * One server for the whole test process (bun test runs every file in one process), started on
 * first use and stopped at exit. Tests that stop or restart a server start their own.
 */
export function sharedPostgres(): Promise<TestPostgres> {
  shared ??= startPostgres();
  return shared;
}
