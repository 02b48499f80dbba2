import { loadConfig } from "../config";
import { openStore } from "../store/open";
import { COMMIT, VERSION } from "../version";
import { parseArgs } from "./args";
import { UsageError, type Command } from "./command";
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
  summary: "apply the embedded database migrations and exit (--status: only list them)",
  usage: "tgwh migrate [--status] [--json]",
  async run(args, env) {
    const p = noArguments(args, { flags: ["--status", "--json"] });
    const cfg = loadConfig(env);
    const statusOnly = p.flags.has("--status");
    // migrate creates the database when it is missing: as root, owned by the directory's owner.
    if (!cfg.databaseUrl) actAsServiceUser(cfg.dbPath);
    // --status only looks: it must not create the store it reports on (an unmigrated one is fine).
    const store = await openStore(cfg, { migrate: false, ...(statusOnly ? { mustExist: "reachable" as const } : {}) });
    try {
      if (!statusOnly) await store.migrate();
      const st = await store.health.migrations();
      if (p.flags.has("--json")) console.log(JSON.stringify({ db: store.location, ...st }));
      else console.log(`database ${store.location}: ${st.applied.length} applied, ${st.pending.length} pending${st.pending.length ? ` (${st.pending.join(", ")})` : ""}`);
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
