/** The pure decisions behind the operator's CLI: database guard, user switch, webhook settings, backups, smoke tokens, arguments. */
import { describe, expect, test } from "bun:test";
import { OperationError } from "../../src/operations/errors";
import { settingsToSend, webhookUrlProblem, validateSetOptions } from "../../src/operations/telegram-webhook";
import { parseArgs } from "../../src/cli/args";
import { backupFileName, backupsToPrune } from "../../src/cli/backup-rotation";
import { replacedDirName } from "../../src/cli/restore";
import { judgeSqliteFile, type SqliteFileFacts } from "../../src/store/sqlite/existing-file";
import { switchTarget } from "../../src/cli/run-as-service-user";
import { leftoverSmokeAccounts, smokeAccountName } from "../../src/cli/smoke-token";
import { UPDATE_TYPES, unknownUpdateTypes } from "../../src/telegram/update-types";

const NOW = Date.UTC(2026, 10, 29, 15, 4, 5);

describe("database guard", () => {
  const facts = (f: Partial<SqliteFileFacts>): SqliteFileFacts => ({ path: "/var/lib/tgwh/tgwh.db", statError: null, isFile: true, deniedAt: null, schemaProblem: null, ...f });
  test.each([
    [{}, null],
    [{ statError: "ENOENT" }, "database /var/lib/tgwh/tgwh.db does not exist; run `tgwh migrate`"],
    [{ statError: "ENOTDIR" }, "does not exist"],
    [{ statError: "EACCES", deniedAt: "/var/lib/tgwh" }, "cannot open /var/lib/tgwh/tgwh.db: permission denied (EACCES) on /var/lib/tgwh; run the command as the service's user: sudo tgwh-admin CMD"],
    [{ deniedAt: "/var/lib/tgwh/tgwh.db" }, "permission denied (EACCES) on /var/lib/tgwh/tgwh.db"],
    [{ isFile: false }, "is not a file"],
    [{ schemaProblem: "no migrations were ever applied to it" }, "is not a tgwh database (no migrations were ever applied to it)"],
  ] as [Partial<SqliteFileFacts>, string | null][])("%j → %s", (f, message) => {
    const err = judgeSqliteFile(facts(f));
    if (message === null) expect(err).toBeNull();
    else {
      expect(err?.variable).toBe("TGWH_DB");
      expect(err?.message).toContain(message);
    }
  });
});

describe("acting as the service's user", () => {
  const owner = { uid: 998, gid: 998, of: "/var/lib/tgwh/tgwh.db" };
  test("only root switches, only to a non-root owner", () => {
    expect(switchTarget(0, owner)).toEqual(owner);
    expect(switchTarget(1000, owner)).toBeNull();
    expect(switchTarget(0, { ...owner, uid: 0 })).toBeNull();
    expect(switchTarget(0, null)).toBeNull();
  });
});

describe("webhook settings", () => {
  const none = { url: "", maxConnections: null, allowedUpdates: null };
  const current = { url: "https://a.test/telegram/webhook", maxConnections: 25, allowedUpdates: ["message", "chat_member"] };
  test("a first registration gets tgwh's defaults", () => {
    expect(settingsToSend({}, none)).toEqual({ maxConnections: 40, allowedUpdates: ["message", "edited_message", "callback_query", "my_chat_member"], kept: [] });
  });
  test("later ones keep what they are not told, and say so", () => {
    expect(settingsToSend({}, current)).toEqual({ maxConnections: 25, allowedUpdates: ["message", "chat_member"], kept: ["max_connections", "allowed_updates"] });
    expect(settingsToSend({ maxConnections: 60 }, current)).toEqual({ maxConnections: 60, allowedUpdates: ["message", "chat_member"], kept: ["allowed_updates"] });
    // Telegram's own default (no allowed_updates in getWebhookInfo): send none, which keeps it.
    expect(settingsToSend({}, { ...current, allowedUpdates: null, maxConnections: null })).toEqual({ maxConnections: 40, allowedUpdates: null, kept: ["max_connections", "allowed_updates"] });
  });
  test.each([
    ["https://bot.example.com", null],
    ["https://bot.example.com:443/x", null],
    ["https://bot.example.com:8443", null],
    ["https://bot.example.com:88", null],
    ["https://bot.example.com:80", null],
    ["https://bot.example.com:8080", "ports 443, 80, 88, 8443"],
    ["http://bot.example.com", "only posts to https://"],
  ])("%s → %s", (url, problem) => {
    const p = webhookUrlProblem(url);
    if (problem === null) expect(p).toBeNull();
    else expect(p).toContain(problem);
  });
  test("update types come from the Bot API's list; a typo gets a suggestion", () => {
    // The Update object's fields in the Bot API reference (https://core.telegram.org/bots/api#update)
    // as grammY's types carry them today. A grammY upgrade that adds one makes this fail: add it here too.
    expect([...UPDATE_TYPES].sort()).toEqual([
      "business_connection", "business_message", "callback_query", "channel_post", "chat_boost", "chat_join_request", "chat_member",
      "chosen_inline_result", "deleted_business_messages", "edited_business_message", "edited_channel_post", "edited_message", "guest_message",
      "inline_query", "managed_bot", "message", "message_reaction", "message_reaction_count", "my_chat_member", "poll", "poll_answer",
      "pre_checkout_query", "purchased_paid_media", "removed_chat_boost", "shipping_query", "stopped_message_generation", "subscription",
    ]);
    expect(unknownUpdateTypes(["message", "callback_query"])).toBeNull();
    expect(unknownUpdateTypes(["mesage"])).toStartWith("unknown update type 'mesage' (did you mean 'message'?)");
    expect(unknownUpdateTypes(["foo", "bar_baz_qux"])).toStartWith("unknown update types 'foo', 'bar_baz_qux';");
    expect(() => validateSetOptions({ allowedUpdates: ["mesage"] })).toThrow(OperationError);
    expect(() => validateSetOptions({ maxConnections: 101 })).toThrow("1 to 100");
  });
});

describe("backups and restore", () => {
  test("scheduled backup names sort by time; only ours are pruned, oldest first", () => {
    expect(backupFileName(NOW)).toBe("tgwh-20261129T150405Z.db");
    const names = ["tgwh-20261129T150405Z.db", "tgwh-20261129T130405Z.db", "pre-upgrade.db", "tgwh-20261129T140405Z.db", "tgwh-20261129T120405Z.db-journal"];
    expect(backupsToPrune(names, 2)).toEqual(["tgwh-20261129T130405Z.db"]);
    expect(backupsToPrune(names, 5)).toEqual([]);
    expect(backupsToPrune(names, 1)).toEqual(["tgwh-20261129T130405Z.db", "tgwh-20261129T140405Z.db"]);
  });
  test("the folder for a replaced database has no colons", () => {
    expect(replacedDirName(NOW)).toBe("replaced-2026-11-29T15-04-05Z");
  });
});

describe("smoke's own token", () => {
  test("a unique name per run; only live smoke accounts older than 10 minutes are leftovers", () => {
    expect(smokeAccountName(NOW, 42)).toBe("smoke-20261129T150405Z-42");
    const accounts = [
      { name: "smoke-old", createdAt: NOW - 11 * 60_000, revokedAt: null },
      { name: "smoke-new", createdAt: NOW - 60_000, revokedAt: null },
      { name: "smoke-revoked", createdAt: NOW - 3600_000, revokedAt: NOW - 3500_000 },
      { name: "alice", createdAt: NOW - 3600_000, revokedAt: null },
    ];
    expect(leftoverSmokeAccounts(accounts, NOW)).toEqual(["smoke-old"]);
  });
});

describe("arguments (node:util parseArgs, strict)", () => {
  const spec = { flags: ["--json"], options: ["--name", "--chat"] };
  test("flags, values in both forms, positionals and --", () => {
    const p = parseArgs(["a", "--json", "--name", "x", "--chat=-100", "--", "--json"], spec);
    expect([...p.flags]).toEqual(["--json"]);
    expect(Object.fromEntries(p.options)).toEqual({ "--name": "x", "--chat": "-100" });
    expect(p.positionals).toEqual(["a", "--json"]);
  });
  test.each([
    [["--bogus"], "unknown option '--bogus'"],
    [["-x"], "unknown option '-x'"],
    [["--json=1"], "--json takes no value"],
    [["--name"], "--name needs a value"],
    [["--name="], "--name needs a value"],
    [["--chat", "-100"], "--chat needs a value (a value that starts with '-' is written --chat=-VALUE)"],
  ])("%j → %s", (args, message) => {
    expect(() => parseArgs(args, spec)).toThrow(message);
  });
});
