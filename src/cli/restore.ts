import { copyFileSync, existsSync, mkdirSync, renameSync, statSync, chmodSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { loadConfig } from "../config";
import { fsyncPath } from "../fs-durable";
import { inspectBackup } from "../store/open";
import { output, parseArgs } from "./args";
import { EXIT, UsageError, type Command } from "./command";
import { processesUsing } from "./open-files";
import { actAsServiceUser } from "./run-as-service-user";
import { pgBackupPointer } from "../store/postgres/url";

const USAGE = `tgwh restore FILE [--json]

  Replaces the database (TGWH_DB, an absolute path) with the backup FILE, safely:
  - refuses while any process has the database open (stop the service first:
    sudo systemctl stop tgwh; also tgwh@canary and the backup timer's run, if any);
  - checks FILE first (PRAGMA integrity_check, a tgwh database, not from a newer tgwh);
  - keeps the database it replaces, with its -wal and -shm, in DIR/replaced-<time>/;
  - writes the copy beside the database and renames it into place (owner: the service's user).
  Then start the service: sudo systemctl start tgwh (it applies newer migrations itself).`;

/** `replaced-2026-11-29T15-04-05Z`: sortable, no colons. Pure. */
export const replacedDirName = (now: number) => `replaced-${new Date(now).toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-")}`;

export interface RestoreResult {
  database: string;
  restoredFrom: string;
  bytes: number;
  /** Where the replaced database (and its -wal/-shm) now lives; null when there was none. */
  keptIn: string | null;
}

/** The file work of a restore, once every check passed. */
export function replaceDatabase(target: string, file: string, now: number): RestoreResult {
  const dir = dirname(target);
  const sidecars = [target, `${target}-wal`, `${target}-shm`].filter((p) => existsSync(p));
  let keptIn: string | null = null;
  if (sidecars.length > 0) {
    keptIn = join(dir, replacedDirName(now));
    mkdirSync(keptIn, { mode: 0o700 });
    for (const p of sidecars) renameSync(p, join(keptIn, basename(p)));
  }
  const tmp = join(dir, `.${basename(target)}.restore-${process.pid}`);
  copyFileSync(file, tmp);
  chmodSync(tmp, 0o600);
  fsyncPath(tmp);
  renameSync(tmp, target);
  fsyncPath(dir);
  return { database: target, restoredFrom: file, bytes: statSync(target).size, keptIn };
}

export const restoreCommand: Command = {
  name: "restore",
  summary: "replace the database with a backup (service stopped; checked; the old file kept)",
  usage: USAGE,
  async run(args, env) {
    const p = parseArgs(args, { flags: ["--json"] });
    const [given, ...extra] = p.positionals;
    if (!given) throw new UsageError("restore needs the backup FILE");
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const cfg = loadConfig(env);
    if (cfg.databaseUrl) {
      process.stderr.write(`tgwh: ${pgBackupPointer(cfg.databaseUrl)}\n`);
      return EXIT.usage;
    }
    if (!isAbsolute(cfg.dbPath)) {
      throw new UsageError(`TGWH_DB is the relative path '${cfg.dbPath}': a restore needs an absolute one (sudo tgwh-admin restore FILE uses /var/lib/tgwh/tgwh.db)`);
    }
    const target = cfg.dbPath;
    const file = resolve(given);
    if (file === target) throw new UsageError(`${file} is the database itself; give a backup file`);
    if (!existsSync(dirname(target))) throw new UsageError(`directory ${dirname(target)} does not exist: is TGWH_DB right?`);

    // As root, before acting as the service's user: root sees every process.
    const users = processesUsing([target, `${target}-wal`, `${target}-shm`]);
    if (users.length > 0) {
      const who = users.map((u) => `pid ${u.pid} (${u.command.slice(0, 80)})`).join(", ");
      process.stderr.write(`tgwh: refusing to restore: ${target} is open in ${who}\n  stop it first: sudo systemctl stop tgwh (and tgwh@canary, tgwh-backup.service if running)\n`);
      return EXIT.failure;
    }
    actAsServiceUser(target);
    const inspected = inspectBackup(file);
    if (!inspected.ok) {
      process.stderr.write(`tgwh: refusing to restore: ${inspected.problem}\n  nothing was changed\n`);
      return EXIT.failure;
    }
    // The copy is byte for byte the checked file: its migration status is the restored database's.
    const status = inspected.migrations;
    const res = replaceDatabase(target, file, Date.now());
    output(p.flags.has("--json"), { ...res, pendingMigrations: status.pending }, () =>
      [
        `restored ${res.database} from ${res.restoredFrom} (${res.bytes} bytes, integrity_check ok)`,
        res.keptIn ? `the database it replaced is kept in ${res.keptIn}/` : "there was no database to keep",
        ...(status.pending.length ? [`the backup is older than this binary: the service applies ${status.pending.join(", ")} at start`] : []),
        "next: sudo systemctl start tgwh, then sudo tgwh-admin doctor",
      ].join("\n"),
    );
    return EXIT.ok;
  },
};
