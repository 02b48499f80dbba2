import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { processesUsing, type ProcessUsing } from "./open-files";

// Text only a binary with migration 0003 carries (its tag, embedded): such a tgwh follows a switch
// to the lists by itself; anything else on the file (an older tgwh, sqlite3) would not.
const KNOWS_CHAIN_LISTS = Buffer.from("0003_job_chains");

function knowsChainLists(p: ProcessUsing, procRoot: string): boolean {
  try {
    return readFileSync(`${procRoot}/${p.pid}/exe`).includes(KNOWS_CHAIN_LISTS);
  } catch {
    return false; // gone, or not ours to read: treat as unknown
  }
}

/**
 * Why `tgwh migrate --chain-list | --chain-index` must not run now, or null. To the lists: no
 * process that predates them may have the file open (it would insert jobs no list links: they
 * would wait forever). Back to the index: nothing may have it open, since a running tgwh keeps
 * the mode it prepared (the rollback stops it first anyway).
 */
export function chainSwitchBlocker(dbPath: string, mode: "list" | "index", procRoot = "/proc"): string | null {
  const file = resolve(dbPath);
  const users = processesUsing([file, `${file}-wal`, `${file}-shm`], procRoot);
  const blocking = mode === "index" ? users : users.filter((u) => !knowsChainLists(u, procRoot));
  if (blocking.length === 0) return null;
  const who = [...new Map(blocking.map((u) => [u.pid, u])).values()].map((u) => `pid ${u.pid} (${u.command.slice(0, 80)})`).join(", ");
  return mode === "index"
    ? `${file} is open in ${who}; stop it first (sudo systemctl stop tgwh, and tgwh@canary if running), then run --chain-index with the newer binary`
    : `${file} is open in ${who}, which predates per-chat lists (or cannot be checked); stop it first (an older tgwh: promote or roll back the canary)`;
}
