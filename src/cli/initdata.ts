import { readSecret } from "../config";
import type { AuthResult } from "../auth/auth-result";
import { parseInitDataFields, validateInitData, validateInitDataThirdParty, type InitData, type TelegramEnvironment } from "../auth/init-data";
import { EXIT, UsageError, type Command } from "./command";

const USAGE = "tgwh initdata verify [--bot-id N [--test-env]] [--max-age S] [--json]   (initData on stdin)";

interface VerifyOptions {
  botId: number | null;
  environment: TelegramEnvironment;
  maxAge: number;
  json: boolean;
}

function parseArgs(args: string[], env: Record<string, string | undefined>): VerifyOptions {
  const [sub, ...rest] = args;
  if (sub !== "verify") throw new UsageError(sub ? `unknown initdata subcommand '${sub}'` : "missing subcommand 'verify'");
  const envMaxAge = env.TGWH_INIT_DATA_MAX_AGE?.trim();
  const opts: VerifyOptions = { botId: null, environment: "production", maxAge: envMaxAge ? Number(envMaxAge) : 3600, json: false };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const value = () => {
      const v = rest[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === "--json") opts.json = true;
    else if (a === "--test-env") opts.environment = "test";
    else if (a === "--bot-id") {
      const v = value();
      if (!/^\d{1,16}$/.test(v)) throw new UsageError("--bot-id must be the bot's numeric id (the digits before ':' in its token)");
      opts.botId = Number(v);
    } else if (a === "--max-age") {
      const v = value();
      if (!/^\d{1,10}$/.test(v)) throw new UsageError("--max-age must be seconds (0 disables the age check)");
      opts.maxAge = Number(v);
    } else throw new UsageError(`unknown option '${a}'`);
  }
  if (!Number.isSafeInteger(opts.maxAge) || opts.maxAge < 0) throw new UsageError("TGWH_INIT_DATA_MAX_AGE must be a number of seconds");
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
    const opts = parseArgs(args, env);
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
      console.log(JSON.stringify(out, null, 2));
    } else {
      console.log(describe(result, method, raw, now).join("\n"));
    }
    return result.ok ? EXIT.ok : EXIT.failure;
  },
};
