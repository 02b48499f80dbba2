import { readFileSync } from "node:fs";
import { UsageError } from "./command";
import type { ParsedArgs } from "./args";

type Env = Record<string, string | undefined>;

/**
 * Parses a systemd-style EnvironmentFile (KEY=VALUE lines, # comments, optional quotes). Pure.
 * Only what tgwh's env file uses; no variable expansion, like systemd.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!;
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0]!)) value = value.slice(1, -1);
    out[m[1]!] = value;
  }
  return out;
}

/**
 * The environment a shell command sees the way the service does: `--env-file FILE` adds the
 * unit's settings (the process environment wins), `--credentials-dir DIR` stands in for
 * systemd's $CREDENTIALS_DIRECTORY, e.g. /etc/tgwh/credentials when run as root.
 */
export function serviceEnv(p: ParsedArgs, env: Env): Env {
  const merged: Env = {};
  const file = p.options.get("--env-file");
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new UsageError(`--env-file: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    }
    Object.assign(merged, parseEnvFile(text));
  }
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged[k] = v;
  const creds = p.options.get("--credentials-dir");
  if (creds) merged.CREDENTIALS_DIRECTORY = creds;
  return merged;
}

export const SERVICE_ENV_OPTIONS = ["--env-file", "--credentials-dir"] as const;
