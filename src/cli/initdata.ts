import { readSecret } from "../config";
import type { AuthResult } from "../auth/auth-result";
import { parseInitDataFields, validateInitData, validateInitDataThirdParty, type InitData, type TelegramEnvironment } from "../auth/init-data";
import { intOption, parseArgs } from "./args";
import { printable, printableJson } from "./printable";
import { EXIT, UsageError, type Command } from "./command";

const USAGE = "tgwh initdata verify [--bot-id N [--test-env]] [--max-age S] [--json]   (initData on stdin)";

interface VerifyOptions {
  botId: number | null;
  environment: TelegramEnvironment;
  maxAge: number;
  json: boolean;
}

function parseVerifyArgs(args: string[], env: Record<string, string | undefined>): VerifyOptions {
  const [sub, ...rest] = args;
  if (sub !== "verify") throw new UsageError(sub ? `unknown initdata subcommand '${sub}'` : "missing subcommand 'verify'");
  const p = parseArgs(rest, { flags: ["--json", "--test-env"], options: ["--bot-id", "--max-age"] });
  if (p.positionals.length > 0) throw new UsageError(`unexpected argument '${p.positionals[0]}'; initData is read from stdin`);
  const botId = p.options.get("--bot-id");
  if (botId !== undefined && !/^\d{1,16}$/.test(botId)) throw new UsageError("--bot-id must be the bot's numeric id (the digits before ':' in its token)");
  const envMaxAge = env.TGWH_INIT_DATA_MAX_AGE?.trim();
  if (envMaxAge && !/^\d{1,10}$/.test(envMaxAge)) throw new UsageError("TGWH_INIT_DATA_MAX_AGE must be a number of seconds");
  const opts: VerifyOptions = {
    botId: botId === undefined ? null : Number(botId),
    environment: p.flags.has("--test-env") ? "test" : "production",
    maxAge: intOption(p, "--max-age", envMaxAge ? Number(envMaxAge) : 3600, 0, 999_999_999),
    json: p.flags.has("--json"),
  };
  if (opts.environment === "test" && opts.botId === null) throw new UsageError("--test-env only applies with --bot-id (Ed25519 validation)");
  return opts;
}

/** Human-readable lines about a result, for an operator reading a terminal. */
function describe(result: AuthResult<InitData>, method: string, raw: string, now: number): string[] {
  const lines: string[] = [];
  if (result.ok) {
    const d = result.value;
    lines.push(`valid (${method})`);
    if (d.user) lines.push(`user:        ${d.user.id} ${[d.user.first_name, d.user.last_name].filter(Boolean).join(" ")}${d.user.username ? ` @${d.user.username}` : ""}`);
    if (d.receiver) lines.push(`receiver:    ${d.receiver.id} ${d.receiver.first_name}`);
    if (d.chat) lines.push(`chat:        ${d.chat.id} (${d.chat.type})`);
    if (d.startParam !== undefined) lines.push(`start_param: ${d.startParam}`);
    if (d.queryId !== undefined) lines.push(`query_id:    ${d.queryId}`);
  } else {
    lines.push(`invalid (${method}): ${result.code}: ${result.message}`);
  }
  // What the string carries, signed or not: usually enough to see why it failed.
  const fields = parseInitDataFields(raw);
  if (fields.ok) {
    const f = fields.value;
    lines.push(`fields:      ${Object.keys(f).sort().join(", ")}`);
    if (f.auth_date && /^\d+$/.test(f.auth_date)) {
      const age = Math.floor(now / 1000) - Number(f.auth_date);
      lines.push(`auth_date:   ${new Date(Number(f.auth_date) * 1000).toISOString()} (${age} s ago)`);
    }
  }
  return lines;
}

/** `tgwh initdata verify`: checks one initData from stdin the way the service does. */
export const initdataCommand: Command = {
  name: "initdata",
  summary: "verify a Mini App initData read from stdin (debug a failed sign-in)",
  usage: USAGE,
  async run(args, env) {
    const opts = parseVerifyArgs(args, env);
    const raw = (await Bun.stdin.text()).trim();
    if (!raw) throw new UsageError("no initData on stdin; pipe it in, e.g. `pbpaste | tgwh initdata verify`");
    const now = Date.now();
    let result: AuthResult<InitData>;
    let method: string;
    if (opts.botId !== null) {
      method = `ed25519, bot ${opts.botId}, ${opts.environment} key`;
      result = validateInitDataThirdParty(raw, opts.botId, { maxAgeSeconds: opts.maxAge, now, environment: opts.environment });
    } else {
      const token = readSecret(env, "TGWH_BOT_TOKEN", "bot_token");
      if (!token) throw new UsageError("no bot token: set TGWH_BOT_TOKEN (or _FILE, or the credential bot_token), or pass --bot-id N to check Telegram's Ed25519 signature instead");
      method = `hmac, bot ${token.split(":")[0]}`;
      result = validateInitData(raw, token, { maxAgeSeconds: opts.maxAge, now });
    }
    if (opts.json) {
      const out = result.ok
        ? { valid: true, method, maxAge: opts.maxAge, data: { ...result.value } }
        : { valid: false, method, maxAge: opts.maxAge, error: { code: result.code, message: result.message } };
      console.log(printableJson(JSON.stringify(out, null, 2)));
    } else {
      // Each line escaped on its own: a field can neither hold a terminal escape nor start a line.
      console.log(describe(result, method, raw, now).map(printable).join("\n"));
    }
    return result.ok ? EXIT.ok : EXIT.failure;
  },
};
