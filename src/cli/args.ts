import { parseArgs as nodeParseArgs } from "node:util";
import { UsageError } from "./command";

/** Which options a command takes: boolean flags and options with a value, named with their `--`. */
export interface ArgSpec {
  flags?: readonly string[];
  options?: readonly string[];
}

export interface ParsedArgs {
  flags: Set<string>;
  options: Map<string, string>;
  positionals: string[];
}

/** Node's parser says what went wrong in its own words and codes; operators get one plain line. */
function usageMessage(err: { code?: string; message: string }, args: readonly string[], spec: ArgSpec): string {
  const named = /'(-{1,2}[^'\s]+)/.exec(err.message)?.[1];
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option '${named ?? args.find((a) => a.startsWith("-")) ?? "?"}'`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const name = named?.replace(/=.*$/, "") ?? "";
      if (spec.flags?.includes(name)) return `${name} takes no value`;
      const dash = /ambiguous/.test(err.message) ? ` (a value that starts with '-' is written ${name}=-VALUE)` : "";
      return `${name || "an option"} needs a value${dash}`;
    }
    default:
      return err.message;
  }
}

/**
 * `--flag`, `--opt value`, `--opt=value` and `--` through node:util's parseArgs in strict mode:
 * anything unknown is a UsageError (exit 2, printed with the command's usage). Pure.
 */
export function parseArgs(args: readonly string[], spec: ArgSpec): ParsedArgs {
  const options: Record<string, { type: "boolean" | "string" }> = {};
  for (const f of spec.flags ?? []) options[f.replace(/^--/, "")] = { type: "boolean" };
  for (const o of spec.options ?? []) options[o.replace(/^--/, "")] = { type: "string" };
  let parsed: ReturnType<typeof nodeParseArgs>;
  try {
    parsed = nodeParseArgs({ args: [...args], options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(usageMessage(err as { code?: string; message: string }, args, spec));
  }
  const out: ParsedArgs = { flags: new Set(), options: new Map(), positionals: parsed.positionals };
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === true) out.flags.add(`--${name}`);
    else if (typeof value === "string") {
      if (value === "") throw new UsageError(`--${name} needs a value`);
      out.options.set(`--${name}`, value);
    }
  }
  return out;
}

/** An integer option within bounds, or the default. */
export function intOption(p: ParsedArgs, name: string, def: number, min: number, max: number): number {
  const raw = p.options.get(name);
  if (raw === undefined) return def;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}`);
  return Number(raw);
}

/** Prints machine output (one JSON document) or human lines. */
export function output(json: boolean, value: unknown, human: () => string): void {
  console.log(json ? JSON.stringify(value) : human());
}
