import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig, secretsOf } from "../../src/config";
import { scrubSecrets } from "../../src/log";

const problem = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
};

describe("TGWH_REDIS_URL", () => {
  test("unset: no Redis (each gateway limits alone)", () => {
    expect(loadConfig({}).redisUrl).toBeNull();
  });
  test("from the variable, a _FILE or the systemd credential redis_url", () => {
    const dir = mkdtempSync(join(tmpdir(), "tgwh-cfg-"));
    writeFileSync(join(dir, "url"), "rediss://:pw@redis.internal:6380/2\n");
    writeFileSync(join(dir, "redis_url"), "redis://10.0.0.5:6379");
    expect(loadConfig({ TGWH_REDIS_URL: "redis://127.0.0.1:6379" }).redisUrl).toBe("redis://127.0.0.1:6379");
    expect(loadConfig({ TGWH_REDIS_URL_FILE: join(dir, "url") }).redisUrl).toBe("rediss://:pw@redis.internal:6380/2");
    expect(loadConfig({ CREDENTIALS_DIRECTORY: dir }).redisUrl).toBe("redis://10.0.0.5:6379");
  });
  test("a bad URL names the variable and never echoes the value (it may carry a password)", () => {
    for (const bad of ["http://:hunter22@host:6379", "not a url hunter22", "redis://:hunter22@"]) {
      const msg = problem({ TGWH_REDIS_URL: bad });
      expect(msg).toStartWith("TGWH_REDIS_URL:");
      expect(msg).not.toContain("hunter22");
    }
  });
  test("the URL and its password are scrubbed from every log line", () => {
    const cfg = loadConfig({ TGWH_REDIS_URL: "redis://tgwh:s3cr%2Fet-pass@redis.internal:6379" });
    const secrets = secretsOf(cfg);
    expect(secrets).toContain("s3cr/et-pass");
    expect(scrubSecrets(`connect to ${cfg.redisUrl} failed: WRONGPASS for s3cr/et-pass`, secrets)).toBe("connect to [REDACTED] failed: WRONGPASS for [REDACTED]");
  });
});

describe("TGWH_INSTANCE_ID", () => {
  test("defaults to hostname:port of the listener", () => {
    expect(loadConfig({ TGWH_LISTEN: "127.0.0.1:8081" }).instanceId).toBe(`${hostname()}:8081`);
  });
  test("taken as given when valid; '/' (the lease owner separator) and spaces refused", () => {
    expect(loadConfig({ TGWH_INSTANCE_ID: "vm-2.eu:8080" }).instanceId).toBe("vm-2.eu:8080");
    expect(problem({ TGWH_INSTANCE_ID: "a/b" })).toStartWith("TGWH_INSTANCE_ID:");
    expect(problem({ TGWH_INSTANCE_ID: "has space" })).toStartWith("TGWH_INSTANCE_ID:");
    expect(problem({ TGWH_INSTANCE_ID: "x".repeat(129) })).toStartWith("TGWH_INSTANCE_ID:");
  });
});
