/**
 * CPU time of a running process, per thread, from /proc (Linux). A figure of CPU per update is far
 * less sensitive to the other processes on a shared machine than req/s: a busy neighbour slows
 * the wall clock, not (much) the cycles tgwh itself spends on each update.
 */
import { readdirSync, readFileSync } from "node:fs";

const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

export interface ThreadCpu {
  tid: number;
  name: string;
  /** user + system, µs */
  us: number;
}

/** Every thread of `pid` with its name (comm) and CPU time so far. */
export function threadCpu(pid: number): ThreadCpu[] {
  const out: ThreadCpu[] = [];
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${t}/stat`, "utf8");
      // comm is in parentheses and may hold spaces; the fields after it are space-separated.
      const close = s.lastIndexOf(")");
      const name = s.slice(s.indexOf("(") + 1, close);
      const f = s.slice(close + 2).split(" ");
      // after comm: state(0) ppid(1) ... utime(11) stime(12)
      out.push({ tid: Number(t), name, us: (Number(f[11]) + Number(f[12])) * TICK_US });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** CPU spent between two snapshots, grouped by thread name (the main thread is named after the binary). */
export function cpuDelta(before: ThreadCpu[], after: ThreadCpu[], mainTid: number): Record<string, number> {
  const prev = new Map(before.map((t) => [t.tid, t.us]));
  const out: Record<string, number> = {};
  for (const t of after) {
    const key = t.tid === mainTid ? "main" : t.name;
    out[key] = (out[key] ?? 0) + t.us - (prev.get(t.tid) ?? 0);
  }
  return out;
}
