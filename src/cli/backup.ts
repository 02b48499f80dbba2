import { accessSync, constants } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { loadConfig } from "../config";
import { pgBackupPointer } from "../store/postgres/url";
import { openCliAdmin } from "./admin-context";
import { intOption, output, parseArgs } from "./args";
import { backupFileName, pruneBackups } from "./backup-rotation";
import { EXIT, UsageError, type Command } from "./command";

const USAGE = `tgwh backup FILE [--json]
       tgwh backup --dir DIR [--keep N] [--json]

  Writes a consistent copy of the database with VACUUM INTO, while the service runs (a read
  transaction: ingress and worker go on), readable by its owner only (0600): it holds user data,
  token hashes and the audit log (docs/operating.md). FILE must not exist (a symlink counts,
  even a dangling one). --dir writes DIR/tgwh-<UTC time>.db and then keeps only the newest N
  such files (default 24): what tgwh-backup.timer runs. Every backup is in the audit log, with
  the operator behind sudo. Restore: tgwh restore FILE (docs/operating.md).`;

export const backupCommand: Command = {
  name: "backup",
  summary: "write a consistent online copy of the database (VACUUM INTO), optionally rotated",
  usage: USAGE,
  async run(args, env) {
    const p = parseArgs(args, { flags: ["--json"], options: ["--dir", "--keep"] });
    const [given, ...extra] = p.positionals;
    const dir = p.options.get("--dir");
    if (!given && !dir) throw new UsageError("backup needs the target FILE (or --dir DIR)");
    if (given && dir) throw new UsageError("give a FILE or --dir, not both");
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
    if (p.options.has("--keep") && !dir) throw new UsageError("--keep goes with --dir");
    const keep = intOption(p, "--keep", 24, 1, 100000);
    const { databaseUrl } = loadConfig(env);
    if (databaseUrl) {
      process.stderr.write(`tgwh: ${pgBackupPointer(databaseUrl)}\n`);
      return EXIT.usage;
    }
    // Names the operator, then acts as the database's owner and refuses a missing database.
    const admin = await openCliAdmin(env);
    try {
      // A backup holds user data and token hashes: only its owner may read it.
      process.umask(0o077);
      const target = resolve(given ?? join(dir!, backupFileName(Date.now())));
      try {
        accessSync(dirname(target), constants.W_OK);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EACCES") throw new UsageError(`cannot write to ${dirname(target)}: permission denied (EACCES) for the database's owner; use /var/backups/tgwh`);
        if (code === "ENOENT") throw new UsageError(`directory ${dirname(target)} does not exist`);
      }
      const res = await admin.operations.takeBackup(admin.actor, target);
      const pruned = dir ? pruneBackups(dir, keep) : [];
      output(p.flags.has("--json"), { ...res, pruned }, () =>
        `backup of ${admin.store.location} written to ${res.file} (${res.bytes} bytes, quick_check ok)${pruned.length ? `; removed ${pruned.length} older backup(s), keeping ${keep}` : ""}`,
      );
      return EXIT.ok;
    } finally {
      await admin.close();
    }
  },
};
