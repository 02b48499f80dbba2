import { loadConfig } from "../config";
import { backupDatabase, BackupTargetError } from "../db/backup";
import { output, parseArgs } from "./args";
import { EXIT, UsageError, type Command } from "./command";

const USAGE = `tgwh backup FILE [--json]

  Writes a consistent copy of the database to FILE with VACUUM INTO, while the service runs
  (a read transaction: ingress and worker go on). FILE must not exist. Restore: stop tgwh, move
  the copy over TGWH_DB (removing its -wal and -shm files), start tgwh (docs/operating.md).`;

export const backupCommand: Command = {
  name: "backup",
  summary: "write a consistent online copy of the database (VACUUM INTO)",
  usage: USAGE,
  async run(args, env) {
    const p = parseArgs(args, { flags: ["--json"] });
    const [target, ...extra] = p.positionals;
    if (!target) throw new UsageError("backup needs the target FILE");
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const cfg = loadConfig(env);
    try {
      const res = backupDatabase(cfg.dbPath, target, cfg.busyTimeoutMs);
      output(p.flags.has("--json"), res, () => `backup of ${cfg.dbPath} written to ${res.file} (${res.bytes} bytes, quick_check ok)`);
      return EXIT.ok;
    } catch (err) {
      if (err instanceof BackupTargetError) throw new UsageError(err.message);
      throw err;
    }
  },
};
