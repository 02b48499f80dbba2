/** The pure parts of `tgwh doctor` and `tgwh smoke`: judgements, env files, the synthetic update. */
import { describe, expect, test } from "bun:test";
import { clockCheck, credentialChecks, databaseChecks, diskCheck, formatReport, webhookChecks, worstStatus } from "../../src/cli/doctor-checks";
import { parseEnvFile } from "../../src/cli/env-file";
import { SMOKE_UPDATE_ID_BASE, smokeUpdate, tlsCheck } from "../../src/cli/smoke";
import { parseUpdate } from "../../src/telegram/updates";

const GiB = 1024 ** 3;
const NOW = Date.parse("2026-06-01T12:00:00Z");

describe("doctor checks", () => {
  test("clock: ±2 s is noise, beyond 30 s fails", () => {
    expect(clockCheck(1.5).status).toBe("OK");
    expect(clockCheck(-5).status).toBe("WARN");
    expect(clockCheck(31).status).toBe("FAIL");
    expect(clockCheck(-31).hint).toContain("timedatectl");
  });

  test("disk: by free bytes and share", () => {
    expect(diskCheck("/var/lib/tgwh", 50 * GiB, 100 * GiB).status).toBe("OK");
    expect(diskCheck("/var/lib/tgwh", 5 * GiB, 100 * GiB).status).toBe("WARN");
    expect(diskCheck("/var/lib/tgwh", 50 * 1024 ** 2, 10 * GiB).status).toBe("FAIL");
  });

  test("credentials: missing token/secret fail, no session key and an open rotation warn, loose modes fail", () => {
    const r = credentialChecks({ botToken: false, webhookSecret: true, webhookSecretOld: true, sessionSecret: false, looseFiles: ["bot_token"] });
    expect(r.map((c) => `${c.name}:${c.status}`)).toEqual(["bot_token:FAIL", "webhook_secret:OK", "rotation:WARN", "session_secret:WARN", "credential_modes:FAIL"]);
  });

  test("database: absent warns, unwritable and pending migrations fail", () => {
    expect(databaseChecks({ path: "/x.db", exists: false, writeError: null, pendingMigrations: null })[0]!.status).toBe("WARN");
    expect(databaseChecks({ path: "/x.db", exists: true, writeError: "readonly", pendingMigrations: [] })[0]!.status).toBe("FAIL");
    expect(databaseChecks({ path: "/x.db", exists: true, writeError: null, pendingMigrations: ["0002_x"] })[1]).toMatchObject({ status: "FAIL", detail: "pending: 0002_x" });
    // A file from before 0003 still keeps per-chat order in the index: a nudge, not a failure.
    const indexed = databaseChecks({ path: "/x.db", exists: true, writeError: null, pendingMigrations: [], chainMode: "index" })[1]!;
    expect(indexed).toMatchObject({ status: "WARN" });
    expect(indexed.hint).toContain("migrate --chain-list");
    expect(databaseChecks({ path: "/x.db", exists: true, writeError: null, pendingMigrations: [], chainMode: "list" })[1]).toMatchObject({ status: "OK", detail: "all applied; per-chat order in linked lists" });
  });

  test("webhook: URL compared with TGWH_PUBLIC_URL; old errors are history, recent ones warn", () => {
    const base = { url: "https://bot.example.com/telegram/webhook", pendingUpdateCount: 0, maxConnections: 40, allowedUpdates: null, lastErrorDate: null, lastErrorMessage: null };
    expect(worstStatus(webhookChecks(base, "https://bot.example.com/telegram/webhook", NOW))).toBe("OK");
    expect(webhookChecks({ ...base, url: "" }, null, NOW)[0]!.status).toBe("FAIL");
    const old = webhookChecks({ ...base, lastErrorDate: new Date(NOW - 3 * 86400_000).toISOString(), lastErrorMessage: "Wrong response" }, base.url, NOW);
    expect(old.find((c) => c.name === "webhook_last_error")!.status).toBe("OK");
    const recent = webhookChecks({ ...base, lastErrorDate: new Date(NOW - 600_000).toISOString(), lastErrorMessage: "Wrong response" }, base.url, NOW);
    expect(recent.find((c) => c.name === "webhook_last_error")!.detail).toBe("10 min ago: Wrong response");
    expect(webhookChecks({ ...base, pendingUpdateCount: 5000 }, base.url, NOW).find((c) => c.name === "webhook_pending")!.status).toBe("FAIL");
  });

  test("report: one line per check, hints under WARN/FAIL, totals", () => {
    const text = formatReport([clockCheck(0), clockCheck(40)]);
    expect(text.split("\n")[0]).toMatch(/^OK {4}clock/);
    expect(text).toContain("hint: enable time sync");
    expect(text.split("\n").at(-1)).toBe("1 failed, 0 warnings, 1 ok");
  });
});

describe("env file", () => {
  test("KEY=VALUE lines, comments, quotes, export", () => {
    expect(parseEnvFile('# c\nA=1\n\nexport B="two words"\nC=\'x=y\'\n; also a comment\nnot a line\n')).toEqual({ A: "1", B: "two words", C: "x=y" });
  });
});

describe("smoke", () => {
  test("the synthetic update is valid, ignored text, with an id far above Telegram's", () => {
    const u = smokeUpdate(NOW, 42);
    const parsed = parseUpdate(JSON.stringify(u));
    expect(parsed).toMatchObject({ ok: true, orderKey: "chat:42" });
    expect(u.update_id).toBeGreaterThan(2 ** 52);
    expect(Number.isSafeInteger(u.update_id)).toBe(true);
    expect(u.update_id - SMOKE_UPDATE_ID_BASE).toBe(NOW);
    expect(String(u.message.text).startsWith("/")).toBe(false);
  });

  test("certificate: untrusted or expired fails, close to expiry warns", () => {
    const facts = { authorized: true, authorizationError: null, protocol: "TLSv1.3", subject: "bot.example.com", issuer: "R11", validTo: NOW + 60 * 86400_000, altNames: "", serial: "01" };
    expect(tlsCheck(facts, "bot.example.com", NOW).status).toBe("OK");
    expect(tlsCheck({ ...facts, validTo: NOW + 5 * 86400_000 }, "bot.example.com", NOW).status).toBe("WARN");
    expect(tlsCheck({ ...facts, validTo: NOW - 1000 }, "bot.example.com", NOW).status).toBe("FAIL");
    expect(tlsCheck({ ...facts, authorized: false, authorizationError: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" }, "bot.example.com", NOW).detail).toContain("not trusted");
    expect(tlsCheck({ ...facts, protocol: "TLSv1.1" }, "bot.example.com", NOW).status).toBe("FAIL");
  });
});
