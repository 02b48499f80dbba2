import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface ProcessUsing {
  pid: number;
  /** Its command line, for the operator to recognise (tgwh serve, a backup, sqlite3…). */
  command: string;
  path: string;
}

/**
 * The processes that hold any of `paths` open, from /proc/PID/fd (Linux). Root sees every
 * process; another user only its own, which is enough for a database its own service runs on.
 * `restore` uses it to refuse replacing a database under a running service.
 */
export function processesUsing(paths: string[], procRoot = "/proc"): ProcessUsing[] {
  const wanted = new Set(paths);
  const found: ProcessUsing[] = [];
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid);
  } catch {
    return [];
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`${procRoot}/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to see
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`${procRoot}/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!wanted.has(target)) continue;
      let command = "?";
      try {
        command = readFileSync(`${procRoot}/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
      } catch {
        // exited meanwhile
      }
      found.push({ pid: Number(pid), command, path: target });
      break;
    }
  }
  return found;
}
