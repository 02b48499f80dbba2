/**
 * Disaster recovery with the compiled binary: the drill (updates flow, the backup unit's command
 * takes a backup, the database is destroyed, `tgwh restore` brings the backup back, the service
 * starts again) reports RPO (acknowledged updates the restore lost) and RTO (time from the
 * disaster to ready); `tgwh restore`'s refusals; and the offsite copy with the restic commands of
 * tgwh-backup-offsite.service against a local repository.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { BINARY, messageUpdate, postUpdate, removeDir, runTgwh, startTgwh, tempDir, waitFor, type TgwhProcess } from "../support/tgwh";
import { missingPrograms, REPO, run } from "../support/tls-stack";

setDefaultTimeout(120_000);
let dir: string;
let api: FakeBotApi;
const started: TgwhProcess[] = [];
beforeAll(() => {
  dir = tempDir("tgwh-dr-");
  api = startFakeBotApi();
});
afterAll(async () => {
  for (const t of started) await t.stop().catch(() => {});
  api?.stop();
  if (dir) removeDir(dir);
});
const start = async (sub: string, dbPath: string) => {
  const t = await startTgwh({ dir: join(dir, sub), dbPath, env: { TGWH_TELEGRAM_API: api.url } });
  started.push(t);
  return t;
};
/** The ExecStart= line of a unit, with the VM's paths mapped to the test's. */
function unitCommand(unit: string, key: "ExecStart" | "ExecStartPre", map: Record<string, string>): string[] {
  const text = readFileSync(join(REPO, "deploy/systemd", unit), "utf8");
  return [...text.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].map((m) => Object.entries(map).reduce((cmd, [from, to]) => cmd.split(from).join(to), m[1]!));
}
const storedUpdateIds = (dbPath: string): Set<number> => {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db.query("SELECT dedupe_key AS k FROM jobs WHERE kind = 'telegram.update'").all() as { k: string }[];
    return new Set(rows.map((r) => Number(r.k.replace("update:", ""))));
  } finally {
    db.close();
  }
};

describe("the drill: updates flow, backup, destroy, restore, back up and running", () => {
  test("reports RPO (acknowledged updates lost) and RTO (disaster → ready)", async () => {
    const state = join(dir, "drill-state");
    const backups = join(dir, "drill-backups");
    mkdirSync(state);
    mkdirSync(backups);
    const dbPath = join(state, "tgwh.db");
    mkdirSync(join(dir, "drill-1"));
    const tg = await start("drill-1", dbPath);

    // Updates flow: 4 senders, each update acknowledged (200) or not.
    const acked = new Map<number, number>(); // update_id → ack time
    let nextId = 700_000;
    let sending = true;
    const sender = async () => {
      while (sending) {
        const id = nextId++;
        const res = await postUpdate(tg.url, messageUpdate(id, 9000 + (id % 50), "hello")).catch(() => null);
        if (res?.status === 200) acked.set(id, Date.now());
      }
    };
    const senders = Array.from({ length: 4 }, sender);
    await Bun.sleep(1500);

    // The backup, exactly as tgwh-backup.service runs it.
    const [backupCmd] = unitCommand("tgwh-backup.service", "ExecStart", { "/usr/local/bin/tgwh": BINARY, "/var/backups/tgwh": backups });
    const backupStarted = Date.now();
    const backup = await run(backupCmd!.split(" "), { TGWH_DB: dbPath });
    expect(backup.code, backup.out).toBe(0);
    const backupFile = join(backups, readdirSync(backups).find((f) => f.endsWith(".db"))!);
    expect(statSync(backupFile).mode & 0o777).toBe(0o600);

    await Bun.sleep(1000); // acknowledged after the backup: what a restore loses
    sending = false;
    await Promise.all(senders);

    // The disaster: the process dies and the database with it.
    await tg.kill9();
    const disasterAt = performance.now();
    for (const f of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) rmSync(f, { force: true });

    const restoreStarted = performance.now();
    const restored = await runTgwh(["restore", backupFile, "--json"], { TGWH_DB: dbPath });
    const restoreSeconds = (performance.now() - restoreStarted) / 1000;
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({ database: dbPath, restoredFrom: backupFile, keptIn: null });

    mkdirSync(join(dir, "drill-2"));
    const back = await start("drill-2", dbPath);
    const rtoSeconds = (performance.now() - disasterAt) / 1000;

    // RPO: acknowledged updates that are not in the restored database.
    const stored = storedUpdateIds(dbPath);
    const lost = [...acked.keys()].filter((id) => !stored.has(id));
    const ackedBeforeBackup = [...acked].filter(([, at]) => at < backupStarted).map(([id]) => id);
    expect(ackedBeforeBackup.length).toBeGreaterThan(0);
    expect(ackedBeforeBackup.filter((id) => !stored.has(id))).toEqual([]); // the backup holds every ack before it started
    expect(lost.length).toBeGreaterThan(0); // and none after the snapshot: those are the loss
    const lastAck = Math.max(...acked.values());
    console.log(
      `DR drill: ${acked.size} updates acknowledged; RPO = ${lost.length} acknowledged updates lost ` +
        `(those acknowledged in the ${((lastAck - backupStarted) / 1000).toFixed(1)} s between the backup and the disaster); ` +
        `RTO = ${rtoSeconds.toFixed(2)} s from the disaster to ready (restore ${restoreSeconds.toFixed(2)} s, start ${(rtoSeconds - restoreSeconds).toFixed(2)} s)`,
    );

    // Back in service: the restored backlog drains and new updates are processed.
    const fresh = 900_001;
    expect((await postUpdate(back.url, messageUpdate(fresh, 9999, "/help"))).status).toBe(200);
    await waitFor(() => {
      const db = new Database(dbPath, { readonly: true });
      try {
        const open = db.query("SELECT count(*) AS n FROM jobs WHERE state NOT IN ('done', 'dead')").get() as { n: number };
        const done = db.query("SELECT state FROM jobs WHERE dedupe_key = ?").get(`update:${fresh}`) as { state: string } | null;
        return open.n === 0 && done?.state === "done";
      } finally {
        db.close();
      }
    }, 30_000, "the restored backlog and a new update to be processed", back.logs);
  });
});

describe("tgwh restore refuses what is unsafe and keeps what it replaces", () => {
  let dbPath: string;
  let backupFile: string;
  let tg: TgwhProcess;
  beforeAll(async () => {
    const state = join(dir, "refuse-state");
    mkdirSync(state);
    dbPath = join(state, "tgwh.db");
    mkdirSync(join(dir, "refuse"));
    tg = await start("refuse", dbPath);
    backupFile = join(dir, "refuse-backup.db");
    expect((await runTgwh(["backup", backupFile], { TGWH_DB: dbPath })).code).toBe(0);
  });

  test("while the service has the database open: refused, naming its pid", async () => {
    const res = await runTgwh(["restore", backupFile], { TGWH_DB: dbPath });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`refusing to restore: ${dbPath} is open in pid ${tg.pid}`);
    expect(res.stderr).toContain("sudo systemctl stop tgwh");
  });

  test("a damaged or foreign file, a relative TGWH_DB, the database itself: refused, nothing changed", async () => {
    await tg.stop();
    const before = readFileSync(dbPath);
    const garbage = join(dir, "garbage.db");
    writeFileSync(garbage, "this is not a database".repeat(100));
    const foreign = join(dir, "foreign.db");
    const f = new Database(foreign);
    f.run("CREATE TABLE notes (x TEXT)");
    f.close();
    const torn = join(dir, "torn.db");
    writeFileSync(torn, readFileSync(backupFile).subarray(0, 8192));
    for (const [file, message] of [
      [garbage, "is not a readable SQLite database"],
      [foreign, "is not a tgwh database"],
      [torn, "refusing to restore"],
      [join(dir, "nope.db"), "does not exist"],
    ] as const) {
      const res = await runTgwh(["restore", file], { TGWH_DB: dbPath });
      expect({ file, code: res.code }).toEqual({ file, code: 1 });
      expect(res.stderr).toContain(message);
      expect(res.stderr).toContain("nothing was changed");
    }
    const relative = await runTgwh(["restore", backupFile], { TGWH_DB: "data/tgwh.db" });
    expect(relative.code).toBe(2);
    expect(relative.stderr).toContain("needs an absolute one");
    const itself = await runTgwh(["restore", dbPath], { TGWH_DB: dbPath });
    expect(itself.code).toBe(2);
    expect(Buffer.compare(readFileSync(dbPath), before)).toBe(0);
  });

  test("stopped service: the old database is kept in replaced-<time>/, the new one owned like it", async () => {
    await tg.stop();
    const state = join(dir, "refuse-state");
    const old = readFileSync(dbPath);
    if (process.getuid?.() === 0) {
      // The service's files belong to its user (here: nobody); root's restore acts as that user,
      // so a backup only root can read is refused with EACCES and its path.
      chmodSync(dir, 0o755);
      chownSync(state, 65534, 65534);
      chownSync(dbPath, 65534, 65534);
      const denied = await runTgwh(["restore", backupFile], { TGWH_DB: dbPath });
      expect(denied.code).toBe(1);
      expect(denied.stderr).toContain(`cannot read ${backupFile}: permission denied (EACCES)`);
      chownSync(backupFile, 65534, 65534);
    }
    const res = await runTgwh(["restore", backupFile], { TGWH_DB: dbPath });
    expect(res.code, res.stderr).toBe(0);
    const kept = readdirSync(state).find((d) => d.startsWith("replaced-"))!;
    expect(res.stdout).toContain(`kept in ${join(state, kept)}/`);
    expect(Buffer.compare(readFileSync(join(state, kept, "tgwh.db")), old)).toBe(0);
    expect(Buffer.compare(readFileSync(dbPath), readFileSync(backupFile))).toBe(0);
    expect(statSync(dbPath).mode & 0o777).toBe(0o600);
    if (process.getuid?.() === 0) expect(statSync(dbPath).uid).toBe(65534); // run as root, it acted as the owner
  });
});

const noRestic = missingPrograms(["restic"]);
if (noRestic.length > 0) console.warn("SKIPPED offsite copy test: restic is missing (apt-get install -y restic; .ci/run installs it)");
(noRestic.length > 0 ? describe.skip : describe)("offsite copies: tgwh-backup-offsite.service's restic commands", () => {
  test("ship the backups folder, keep snapshots by age, and a restored copy is accepted by tgwh restore", async () => {
    const backups = join(dir, "offsite-backups");
    const creds = join(dir, "offsite-creds");
    mkdirSync(backups);
    mkdirSync(creds);
    writeFileSync(join(creds, "restic_password"), "test-only-restic-password", { mode: 0o600 });
    const state = join(dir, "offsite-state");
    mkdirSync(state);
    const dbPath = join(state, "tgwh.db");
    expect((await runTgwh(["migrate"], { TGWH_DB: dbPath })).code).toBe(0);
    expect((await runTgwh(["backup", "--dir", backups], { TGWH_DB: dbPath })).code).toBe(0);

    const map = { "%d": creds, "/var/backups/tgwh": backups };
    const env = { RESTIC_REPOSITORY: join(dir, "restic-repo"), RESTIC_PASSWORD_FILE: join(creds, "restic_password"), RESTIC_CACHE_DIR: join(dir, "restic-cache") };
    const commands = [...unitCommand("tgwh-backup-offsite.service", "ExecStartPre", map), ...unitCommand("tgwh-backup-offsite.service", "ExecStart", map)];
    expect(commands.length).toBe(3);
    for (let round = 0; round < 2; round++) {
      for (const cmd of commands) {
        const res = await run(["/bin/sh", "-c", cmd.replace(/^\/bin\/sh -c '(.*)'$/, "$1")], env);
        expect({ cmd, code: res.code, out: res.code ? res.out : "" }).toEqual({ cmd, code: 0, out: "" });
      }
    }
    const snapshots = JSON.parse((await run(["restic", "snapshots", "--json", "--tag", "tgwh"], env)).out) as unknown[];
    expect(snapshots.length).toBe(1); // two runs within the hour: forget keeps one hourly snapshot
    const target = join(dir, "restic-restored");
    expect((await run(["restic", "restore", "latest", "--target", target], env)).code).toBe(0);
    const name = readdirSync(backups)[0]!;
    const copy = join(target, backups, name);
    expect(Buffer.compare(readFileSync(copy), readFileSync(join(backups, name)))).toBe(0);
    const fresh = join(dir, "offsite-fresh");
    mkdirSync(fresh);
    const res = await runTgwh(["restore", copy], { TGWH_DB: join(fresh, "tgwh.db") });
    expect(res.code, res.stderr).toBe(0);
    expect(existsSync(join(fresh, "tgwh.db"))).toBe(true);
  });
});
