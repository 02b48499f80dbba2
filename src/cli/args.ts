import { UsageError } from "./command";

/** Which options a command takes: boolean flags and options with a value. */
export interface ArgSpec {
  flags?: readonly string[];
  options?: readonly string[];
}

export interface ParsedArgs {
  flags: Set<string>;
  options: Map<string, string>;
  positionals: string[];
}

/** Parses `--flag`, `--opt value` and `--opt=value`; anything unknown is a UsageError (exit 2). Pure. */
export function parseArgs(args: readonly string[], spec: ArgSpec): ParsedArgs {
  const flags = new Set<string>();
  const options = new Map<string, string>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith("--")) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq === -1 ? a : a.slice(0, eq);
    if (spec.flags?.includes(name)) {
      if (eq !== -1) throw new UsageError(`${name} takes no value`);
      flags.add(name);
    } else if (spec.options?.includes(name)) {
      const value = eq !== -1 ? a.slice(eq + 1) : args[++i];
      if (value === undefined || value === "") throw new UsageError(`${name} needs a value`);
      options.set(name, value);
    } else throw new UsageError(`unknown option '${name}'`);
  }
  return { flags, options, positionals };
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
