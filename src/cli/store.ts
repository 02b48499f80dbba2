import { readFileSync } from "node:fs";
import { databaseUrlProblem, loadConfig, type Config } from "../config";
import { retentionCutoff } from "../queue/retention";
import { copySqliteToPostgres, CopyRefusedError, type CopyResult } from "../store/copy";
import { cliActor } from "./admin-context";
import { output, parseArgs } from "./args";
import { EXIT, UsageError, type Command } from "./command";

const USAGE = `tgwh store copy (--to postgres://USER:PASSWORD@HOST:5432/DB | --to-file FILE) [--json]

  Copies the SQLite store at TGWH_DB into an empty PostgreSQL database: jobs not finished, done
  and discarded jobs inside the dedupe window (TGWH_RETENTION_DAYS), users, service accounts,
  the audit log, settings (the session key: sessions stay valid) and unexpired initData sign-ins
  (replays stay refused). Ids are kept. A target that
  holds anything is refused. Stop \`tgwh serve\` first: what it acknowledges after the copy starts
  would not be in PostgreSQL. --to-file reads the URL from a file (keeps the password out of ps).
  Then start the gateways with TGWH_DATABASE_URL set and TGWH_DB unset (docs/scale-out.md).`;

/** Is a tgwh answering at the configured listener? A running SQLite service keeps writing the file being copied. */
async function serviceAnswers(cfg: Config): Promise<boolean> {
  const host = cfg.listen.hostname.includes(":") ? `[${cfg.listen.hostname}]` : cfg.listen.hostname;
  try {
    const res = await fetch(`http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${cfg.listen.port}/healthz`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

function targetUrl(p: ReturnType<typeof parseArgs>): string {
  const direct = p.options.get("--to");
  const file = p.options.get("--to-file");
  if (direct && file) throw new UsageError("give --to or --to-file, not both");
  if (!direct && !file) throw new UsageError("store copy needs the target: --to postgres://… or --to-file FILE");
  let url = direct;
  if (file) {
    try {
      url = readFileSync(file, "utf8").trim();
    } catch (err) {
      throw new UsageError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? "unreadable"})`);
    }
  }
  const problem = databaseUrlProblem(url!);
  if (problem) throw new UsageError(`the target ${problem}`);
  return url!;
}

function describe(r: CopyResult, days: number): string {
  const j = r.counts.jobs;
  const copied = j.pending + j.running + j.dead + j.done + j.discarded;
  return [
    `copied ${r.from} to ${r.to}:`,
    `  jobs: ${copied} (${j.pending} pending, ${j.running} running → pending, ${j.dead} dead, ${j.done} done and ${j.discarded} discarded inside the ${days}-day dedupe window); ${j.leftBehind} older finished jobs left behind`,
    `  users: ${r.counts.users}, service accounts: ${r.counts.serviceAccounts}, audit entries: ${r.counts.auditEntries}, settings: ${r.counts.settings}, initData sign-ins still refused as replays: ${r.counts.initDataReplays}`,
    "next: start the gateways with TGWH_DATABASE_URL set (and TGWH_DB unset); keep the SQLite file until they run (going back: docs/scale-out.md)",
  ].join("\n");
}

export const storeCommand: Command = {
  name: "store",
  summary: "store copy --to postgres://…: move the SQLite store into an empty PostgreSQL database",
  usage: USAGE,
  async run(args, env) {
    const [sub, ...rest] = args;
    if (sub !== "copy") throw new UsageError(sub ? `unknown store command '${sub}'` : "which store command? (copy)");
    const p = parseArgs(rest, { flags: ["--json"], options: ["--to", "--to-file"] });
    if (p.positionals.length) throw new UsageError(`unexpected argument '${p.positionals[0]}'`);
    const url = targetUrl(p);
    const cfg = loadConfig(env);
    if (cfg.databaseUrl) throw new UsageError("TGWH_DATABASE_URL is set: store copy reads the SQLite store at TGWH_DB; run it with the SQLite configuration");
    if (await serviceAnswers(cfg)) {
      process.stderr.write(`tgwh: a tgwh answers at ${cfg.listen.hostname}:${cfg.listen.port}: stop it first (systemctl stop tgwh); updates it acknowledges after the copy starts would be missing from PostgreSQL\n`);
      return EXIT.usage;
    }
    const now = Date.now();
    const actor = cliActor(env);
    try {
      const res = await copySqliteToPostgres({ sqlitePath: cfg.dbPath, targetUrl: url, cutoff: retentionCutoff(now, cfg.retentionDays), actor, now });
      output(p.flags.has("--json"), res, () => describe(res, cfg.retentionDays));
      return EXIT.ok;
    } catch (err) {
      if (err instanceof CopyRefusedError) {
        process.stderr.write(`tgwh: ${err.message}\n`);
        return EXIT.usage;
      }
      throw err;
    }
  },
};
