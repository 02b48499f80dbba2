/**
 * Reads a Chrome-format .cpuprofile (what `--cpu-prof` writes) and sums sampled time by function
 * (self and inclusive) and by category, a category being the first rule that matches any frame of
 * the sample's stack, innermost first (rules match `${functionName} ${url}`). Good for the shape
 * of the costs, not for exact figures.
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface Frame {
  fn: string;
  url: string;
  line: number;
}

export interface CategoryRule {
  name: string;
  /** Matched against `${fn} ${url}` of each frame. */
  match: RegExp;
}

export interface ProfileSummary {
  totalUs: number;
  idleUs: number;
  byCategory: Record<string, number>;
  selfTop: { frame: string; us: number }[];
  inclusiveTop: { frame: string; us: number }[];
}

const short = (f: Frame) => `${f.fn || "(anonymous)"} ${f.url.replace(/^.*\/(src|node_modules)\//, "$1/")}:${f.line + 1}`;

export function summariseProfile(path: string, rules: CategoryRule[], top = 40): ProfileSummary {
  const p = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map<number, Node>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const stackCache = new Map<number, Frame[]>();
  const stackOf = (id: number): Frame[] => {
    const hit = stackCache.get(id);
    if (hit) return hit;
    const frames: Frame[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      frames.push({ fn: cf.functionName, url: cf.url, line: cf.lineNumber });
    }
    stackCache.set(id, frames);
    return frames;
  };
  const byCategory: Record<string, number> = {};
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; the sample stands for the interval after it.
    const dt = p.timeDeltas[i + 1] ?? 0;
    const stack = stackOf(p.samples[i]!);
    const leaf = stack[0]!;
    if (leaf.fn === "(idle)" || (leaf.fn === "(program)" && stack.length <= 2)) {
      idleUs += dt;
      continue;
    }
    totalUs += dt;
    let cat = "other";
    outer: for (const f of stack) {
      const s = `${f.fn} ${f.url}`;
      for (const r of rules) {
        if (r.match.test(s)) {
          cat = r.name;
          break outer;
        }
      }
    }
    byCategory[cat] = (byCategory[cat] ?? 0) + dt;
    const k = short(leaf);
    self.set(k, (self.get(k) ?? 0) + dt);
    const seen = new Set<string>();
    for (const f of stack) {
      const kk = short(f);
      if (seen.has(kk)) continue;
      seen.add(kk);
      incl.set(kk, (incl.get(kk) ?? 0) + dt);
    }
  }
  const sorted = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([frame, us]) => ({ frame, us }));
  return { totalUs, idleUs, byCategory, selfTop: sorted(self), inclusiveTop: sorted(incl) };
}
