import { closeSync, fsyncSync, openSync } from "node:fs";

/** Makes a file's (or a directory's entries') last writes durable: backups and restores rely on it. */
export function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
