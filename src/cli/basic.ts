import { loadConfig } from "../config";
import { openStore } from "../store/open";
import { COMMIT, VERSION } from "../version";
import { parseArgs } from "./args";
import { EXIT, UsageError, type Command } from "./command";
import { chainSwitchBlocker } from "./chain-switch-guard";
import { actAsServiceUser } from "./run-as-service-user";
import { serve } from "./serve";

const noArguments = (args: string[], spec: { flags?: string[] } = {}) => {
  const p = parseArgs(args, spec);
  if (p.positionals.length) throw new UsageError(`unexpected argument '${p.positionals[0]}'`);
  return p;
};

export const serveCommand: Command = {
  name: "serve",
  summary: "run the webhook gateway, worker, auth and admin API (the default)",
  usage: "tgwh [serve]",
  async run(args, env) {
    noArguments(args);
    const cfg = loadConfig(env);
    if (!cfg.databaseUrl) actAsServiceUser(cfg.dbPath); // PostgreSQL: no file to own
    return serve(cfg);
  },
};

export const migrateCommand: Command = {
  name: "migrate",
  summary: "apply the embedded database migrations and exit (--status: only list them; --chain-list: see usage)",
  usage: `tgwh migrate [--status] [--json]
tgwh migrate --chain-list | --chain-index [--json]
  --chain-list   SQLite: keep per-chat order in linked lists instead of the jobs_chain index
                 (faster ingest; docs/performance.md). Files created by this version start that
                 way; a file from an earlier one keeps the index, which an older binary on the
                 same file needs (a canary). Run it after promoting, with the older one stopped;
                 a running tgwh of this version follows by itself.
  --chain-index  back to the index, before rolling back to a version older than 0003: stop
                 tgwh first (docs/runbook.md).
  Both refuse while a process that would not follow has the file open, and name it.`,
  async run(args, env) {
    const p = noArguments(args, { flags: ["--status", "--json", "--chain-list", "--chain-index"] });
    const cfg = loadConfig(env);
    const statusOnly = p.flags.has("--status");
    const mode = p.flags.has("--chain-list") ? "list" : p.flags.has("--chain-index") ? "index" : null;
    if (p.flags.has("--chain-list") && p.flags.has("--chain-index")) throw new UsageError("--chain-list and --chain-index ask for opposite modes: give one of them");
    if (statusOnly && mode) throw new UsageError(`--status only looks; --chain-${mode} changes the database: give one of them`);
    if (mode === "list" && cfg.databaseUrl) throw new UsageError("PostgreSQL keeps per-chat order in its jobs_chain index; --chain-list is for a SQLite file (TGWH_DB)");
    // As root, before acting as the service's user: root sees every process that has the file open.
    const blocker = mode && !cfg.databaseUrl ? chainSwitchBlocker(cfg.dbPath, mode) : null;
    if (blocker) {
      process.stderr.write(`tgwh: refusing --chain-${mode}: ${blocker}\n  nothing was changed\n`);
      return EXIT.failure;
    }
    // migrate creates the database when it is missing: as root, owned by the directory's owner.
    if (!cfg.databaseUrl) actAsServiceUser(cfg.dbPath);
    // --status only looks: it must not create the store it reports on (an unmigrated one is fine).
    const store = await openStore(cfg, { migrate: false, ...(statusOnly ? { mustExist: "reachable" as const } : {}) });
    try {
      if (!statusOnly) await store.migrate();
      if (mode) await store.setChainMode(mode);
      const st = await store.health.migrations();
      const chains = st.pending.length ? null : await store.chainMode();
      if (p.flags.has("--json")) console.log(JSON.stringify({ db: store.location, ...st, ...(chains ? { chains } : {}) }));
      else {
        const pending = st.pending.length ? ` (${st.pending.join(", ")})` : "";
        console.log(`database ${store.location}: ${st.applied.length} applied, ${st.pending.length} pending${pending}${chains ? `; per-chat order by ${chains}` : ""}`);
      }
      return 0;
    } finally {
      await store.close();
    }
  },
};

export const versionCommand: Command = {
  name: "version",
  summary: "print the version and build commit",
  usage: "tgwh version [--json]",
  async run(args) {
    const p = noArguments(args, { flags: ["--json"] });
    console.log(p.flags.has("--json") ? JSON.stringify({ version: VERSION, commit: COMMIT }) : `tgwh ${VERSION} (${COMMIT})`);
    return 0;
  },
};
