import { API_CONSTANTS } from "grammy";

/**
 * Every update type of the Bot API's Update object, the values setWebhook's allowed_updates
 * takes. The one list tgwh checks against; it comes from grammY's types, which follow the Bot API
 * release by release (test/unit/ops-decisions.test.ts pins the types the docs list today).
 */
export const UPDATE_TYPES: readonly string[] = API_CONSTANTS.ALL_UPDATE_TYPES;

/** Edit distance, for "did you mean": small strings only. Pure. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** Null when every name is an update type; else one sentence naming the unknown ones. Pure. */
export function unknownUpdateTypes(names: readonly string[]): string | null {
  const unknown = names.filter((n) => !UPDATE_TYPES.includes(n));
  if (unknown.length === 0) return null;
  const described = unknown.map((n) => {
    const near = UPDATE_TYPES.find((t) => distance(n, t) <= 2);
    return near ? `'${n}' (did you mean '${near}'?)` : `'${n}'`;
  });
  return `unknown update type${unknown.length > 1 ? "s" : ""} ${described.join(", ")}; the Bot API's types are: ${UPDATE_TYPES.join(", ")}`;
}
