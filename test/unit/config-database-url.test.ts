import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig, secretsOf } from "../../src/config";
import { scrubSecrets } from "../../src/log";
import { databaseLocation, databaseUrlParts } from "../../src/store/postgres/url";
import { limitsStartupWarnings } from "../../src/limits/create-limits";
import { runTgwh } from "../support/tgwh";

const problem = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
};
const URL_WITH_PASSWORD = "postgres://tgwh:s3cr%2Fet-pw@db.internal:5433/tgwh?sslmode=require";

describe("TGWH_DATABASE_URL", () => {
  test("unset: SQLite at TGWH_DB, as before", () => {
    const cfg = loadConfig({});
    expect(cfg.databaseUrl).toBeNull();
    expect(cfg.dbPath).toBe("./data/tgwh.db");
  });

  test("from the variable, a _FILE or the systemd credential database_url; the default TGWH_DB path does not conflict", () => {
    const dir = mkdtempSync(join(tmpdir(), "tgwh-cfg-"));
    writeFileSync(join(dir, "url"), `${URL_WITH_PASSWORD}\n`);
    writeFileSync(join(dir, "database_url"), "postgresql://tgwh@10.0.0.7/tgwh");
    expect(loadConfig({ TGWH_DATABASE_URL: URL_WITH_PASSWORD }).databaseUrl).toBe(URL_WITH_PASSWORD);
    expect(loadConfig({ TGWH_DATABASE_URL_FILE: join(dir, "url") }).databaseUrl).toBe(URL_WITH_PASSWORD);
    expect(loadConfig({ CREDENTIALS_DIRECTORY: dir, STATE_DIRECTORY: "/var/lib/tgwh" }).databaseUrl).toBe("postgresql://tgwh@10.0.0.7/tgwh");
  });

  test("with an explicit TGWH_DB too: one line naming both", () => {
    const msg = problem({ TGWH_DATABASE_URL: URL_WITH_PASSWORD, TGWH_DB: "/var/lib/tgwh/tgwh.db" });
    expect(msg).toContain("TGWH_DATABASE_URL");
    expect(msg).toContain("TGWH_DB");
    expect(msg).not.toContain("\n");
    expect(msg).not.toContain("s3cr");
  });

  test("a bad URL names the variable and never echoes the value", () => {
    for (const bad of ["mysql://u:hunter22@h/db", "not a url hunter22", "postgres://u:hunter22@host:5432/", "postgres://u:hunter22@/db"]) {
      const msg = problem({ TGWH_DATABASE_URL: bad });
      expect(msg).toStartWith("TGWH_DATABASE_URL:");
      expect(msg).not.toContain("hunter22");
    }
  });

  test("the URL and its password are scrubbed from log lines; shown, it has neither password nor query", () => {
    const cfg = loadConfig({ TGWH_DATABASE_URL: URL_WITH_PASSWORD });
    const secrets = secretsOf(cfg);
    expect(secrets).toContain("s3cr/et-pw");
    expect(scrubSecrets(`connect ${cfg.databaseUrl}: password s3cr/et-pw refused`, secrets)).toBe("connect [REDACTED]: password [REDACTED] refused");
    expect(databaseLocation(URL_WITH_PASSWORD)).toBe("postgres://tgwh@db.internal:5433/tgwh");
    expect(databaseLocation("postgres://u@h/db?password=qwerty")).toBe("postgres://u@h/db");
    expect(databaseUrlParts(URL_WITH_PASSWORD)).toEqual({ hostname: "db.internal", port: 5433, database: "tgwh", username: "tgwh" });
    expect(secretsOf(loadConfig({ TGWH_DATABASE_URL: "postgres://u@h/db?password=qwerty" }))).toContain("qwerty");
  });

  test("a shared store without Redis warns at start", () => {
    expect(limitsStartupWarnings({ redisUrl: null, sharedStore: true })).toHaveLength(1);
    expect(limitsStartupWarnings({ redisUrl: "redis://r", sharedStore: true })).toEqual([]);
    expect(limitsStartupWarnings({ redisUrl: null, sharedStore: false })).toEqual([]);
  });

  test("the binary: TGWH_DATABASE_URL with TGWH_DB exits 2 with one line naming both, for every command", async () => {
    for (const args of [["serve"], ["migrate"], ["jobs", "ls"]]) {
      const res = await runTgwh(args, { TGWH_DATABASE_URL: URL_WITH_PASSWORD, TGWH_DB: "/tmp/x.db", TGWH_DEV: "1" });
      expect(res.code).toBe(2);
      expect(res.stderr.trim().split("\n")).toHaveLength(1);
      expect(res.stderr).toMatch(/TGWH_DATABASE_URL.*TGWH_DB/);
      expect(res.stderr + res.stdout).not.toContain("s3cr");
    }
  });
});
