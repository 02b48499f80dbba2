import { loadConfig } from "../config";
import { openDb } from "../db/client";
import { embeddedMigrations } from "../db/migrations";
import { migrationStatus } from "../db/migrate";
import { COMMIT, VERSION } from "../version";
import type { Command } from "./command";
import { serve } from "./serve";

export const serveCommand: Command = {
  name: "serve",
  summary: "run the webhook gateway, worker, auth and admin API (the default)",
  usage: "tgwh [serve]",
  run: async (_args, env) => serve(loadConfig(env)),
};

export const migrateCommand: Command = {
  name: "migrate",
  summary: "apply the embedded database migrations and exit (--status: only list them)",
  usage: "tgwh migrate [--status] [--json]",
  async run(args, env) {
    const cfg = loadConfig(env);
    const statusOnly = args.includes("--status");
    const db = openDb({ path: cfg.dbPath, synchronous: cfg.synchronous, busyTimeoutMs: cfg.busyTimeoutMs, migrate: !statusOnly });
    try {
      const st = migrationStatus(db.sqlite, embeddedMigrations);
      if (args.includes("--json")) console.log(JSON.stringify({ db: cfg.dbPath, ...st }));
      else console.log(`database ${cfg.dbPath}: ${st.applied.length} applied, ${st.pending.length} pending${st.pending.length ? ` (${st.pending.join(", ")})` : ""}`);
      return 0;
    } finally {
      db.close();
    }
  },
};

export const versionCommand: Command = {
  name: "version",
  summary: "print the version and build commit",
  usage: "tgwh version [--json]",
  async run(args) {
    console.log(args.includes("--json") ? JSON.stringify({ version: VERSION, commit: COMMIT }) : `tgwh ${VERSION} (${COMMIT})`);
    return 0;
  },
};
