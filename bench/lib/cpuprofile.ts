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

/**
 * The first frame from the leaf up that matches a rule names the sample's category. The compiled
 * binary's frames carry function names (the build minifies syntax, not identifiers) but not
 * source paths, so the rules match names. JSC samples only while JavaScript runs (or native code
 * it called, SQLite included); the HTTP server's own native work is measured apart (the bare
 * server's CPU per request).
 */
export const TGWH_CATEGORIES: CategoryRule[] = [
  { name: "logging (pino: serialise, scrub, write)", match: /^(LOG|asJson|_asJson|write|scrubSecrets|streamWrite|isoTime|flush|actualWrite|release|child|asChindings) / },
  { name: "metrics (prom-client)", match: /^(inc|observe|hashObject|setValue|findBound|getLabels|validateLabel|labels) / },
  { name: "secret check (fixed-size block compare)", match: /^(secretMatches|digest) / },
  { name: "body read (arrayBuffer + UTF-8)", match: /^(readLimited|decodeUtf8|arrayBuffer) / },
  { name: "JSON parse + validation", match: /^(parseUpdate|orderKeyOf|isObj|parse) / },
  { name: "insert (chain check + INSERT)", match: /^insertJobs / },
  { name: "worker claim (+ lease expiry)", match: /^(claimJobs|expireLeases) / },
  { name: "worker finish (+ chain hand-off)", match: /^(finishJob|appendAttemptError) / },
  { name: "commit (BEGIN/COMMIT, WAL frames)", match: /^(#runNoArgs|commitQueued) / },
  { name: "WAL fdatasync (queueing it)", match: /^(startSync|sync|fdatasync|fdatasyncCb) / },
  { name: "worker handle (grammY handleUpdate)", match: /^(handleUpdate|runWithJobLog|routeUpdate) / },
  { name: "worker loop (runJob, pump, decideFinish)", match: /^(runJob|pump|decideFinish|schedule|nextWakeAt|finished|started) / },
  { name: "writer (queue, settle)", match: /^(tick|settle|schedule|enqueue|ungate) / },
  { name: "webhook handler (headers, reqId, response)", match: /^(handleOne|handleWebhook|answer|json|updateDedupeKey|randomUUID|Response|enter|leave) / },
];

if (import.meta.main) {
  // bun bench/lib/cpuprofile.ts FILE.cpuprofile: the category split and top functions of a saved profile.
  const s = summariseProfile(process.argv[2]!, TGWH_CATEGORIES);
  for (const [k, us] of Object.entries(s.byCategory).sort((a, b) => b[1] - a[1])) console.log(`${((100 * us) / s.totalUs).toFixed(1).padStart(5)} %  ${k}`);
  console.log("top self time:");
  for (const f of s.selfTop.slice(0, 25)) console.log(`  ${((100 * f.us) / s.totalUs).toFixed(1).padStart(5)} %  ${f.frame}`);
}
