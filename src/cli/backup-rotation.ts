import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

/**
 * Scheduled backups (tgwh-backup.timer runs `tgwh backup --dir /var/backups/tgwh --keep N`):
 * one file per run, named by its UTC time so names sort by age, and only the newest N kept.
 */

const NAME_RE = /^tgwh-\d{8}T\d{6}Z\.db$/;

/** `tgwh-20261129T150405Z.db`. Pure. */
export function backupFileName(now: number): string {
  return `tgwh-${new Date(now).toISOString().replace(/\.\d+Z$/, "Z").replace(/[-:]/g, "")}.db`;
}

/** The scheduled backups beyond the newest `keep`, oldest first; other files are never touched. Pure. */
export function backupsToPrune(names: string[], keep: number): string[] {
  const ours = names.filter((n) => NAME_RE.test(n)).sort();
  return ours.slice(0, Math.max(0, ours.length - keep));
}

/** Deletes what `backupsToPrune` names in `dir`; returns the deleted names. */
export function pruneBackups(dir: string, keep: number): string[] {
  const doomed = backupsToPrune(readdirSync(dir), keep);
  for (const name of doomed) rmSync(join(dir, name), { force: true });
  return doomed;
}
