/**
 * The figures issue 18 asks for, for any tree: `bun scripts/codebase-report.ts [ROOT] [--json]`.
 *   - source files: count and size (all of src/, and its .ts files), the files over 300 lines;
 *   - the import graph: cycles between files and between folders, the longest import chain;
 *   - one update's path: the src/ files whose code runs for one update beyond what an idle
 *     service runs (scripts/update-path.probe.ts under coverage, twice);
 *   - tests by layer (test/<layer>/), as `bun test` registers them (table rows count one each).
 * ROOT is a checkout with node_modules (for an old commit: `git archive C | tar -x -C DIR` and
 * a symlink to node_modules). Nothing here asserts; it prints.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildImportGraph, cycleThrough, folderGraph, importCycles, listFiles, longestImportChain } from "./import-graph";

const TEST_LAYERS = ["unit", "store", "routes", "e2e", "deploy", "fuzz", "soak"] as const;
const BUN = resolve(import.meta.dir, "../node_modules/.bin/bun");

function sourceFigures(root: string) {
  const all = listFiles(root, "src").filter((f) => !f.includes("/migrations/meta/"));
  const sized = all.map((f) => {
    const text = readFileSync(join(root, f), "utf8");
    return { file: f, lines: text.split("\n").length - (text.endsWith("\n") ? 1 : 0), bytes: statSync(join(root, f)).size };
  });
  const ts = sized.filter((s) => s.file.endsWith(".ts"));
  const sum = (xs: { lines: number; bytes: number }[]) => ({ files: xs.length, lines: xs.reduce((n, x) => n + x.lines, 0), bytes: xs.reduce((n, x) => n + x.bytes, 0) });
  const lines = ts.map((s) => s.lines).sort((a, b) => a - b);
  return {
    all: sum(sized),
    ts: { ...sum(ts), medianLines: lines[Math.floor(lines.length / 2)] ?? 0, maxLines: lines[lines.length - 1] ?? 0 },
    over300: ts.filter((s) => s.lines > 300).map((s) => `${s.file} (${s.lines})`),
  };
}

function testCounts(root: string) {
  const out: Record<string, { files: number; tests: number }> = {};
  for (const layer of TEST_LAYERS) {
    // A name filter that matches nothing: bun registers every test (table rows included) and runs none, hooks included.
    const res = Bun.spawnSync([BUN, "test", `test/${layer}`, "-t", "^no test has this name$"], { cwd: root, stdout: "pipe", stderr: "pipe" });
    const text = `${res.stdout.toString()}${res.stderr.toString()}`;
    const m = /Searched (\d+) files? \(skipping (\d+) tests?\)/.exec(text);
    out[layer] = m ? { files: Number(m[1]), tests: Number(m[2]) } : { files: 0, tests: 0 };
  }
  return out;
}

/** Line hit counts per src/ file from an lcov file. */
function lcovHits(path: string): Map<string, Map<number, number>> {
  const files = new Map<string, Map<number, number>>();
  let current: Map<number, number> | null = null;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line.startsWith("SF:")) {
      current = new Map();
      files.set(line.slice(3), current);
    } else if (line.startsWith("DA:") && current) {
      const [n, count] = line.slice(3).split(",").map(Number);
      current.set(n!, count!);
    }
  }
  return files;
}

function updatePath(root: string): string[] {
  const work = mkdtempSync(join(tmpdir(), "tgwh-report-"));
  const probe = join(root, `update-path-${process.pid}.probe.ts`);
  copyFileSync(join(import.meta.dir, "update-path.probe.ts"), probe);
  try {
    const runs: Record<string, Map<string, Map<number, number>>> = {};
    for (const mode of ["idle", "update"]) {
      const dir = join(work, mode);
      const res = Bun.spawnSync([BUN, "test", `./${probe.slice(root.length + 1)}`, "--coverage", "--coverage-reporter=lcov", `--coverage-dir=${dir}`], {
        cwd: root,
        env: { ...process.env, PROBE_MODE: mode, PROBE_ROOT: root },
        stdout: "pipe",
        stderr: "pipe",
      });
      if (res.exitCode !== 0) throw new Error(`the ${mode} probe failed:\n${res.stderr.toString().slice(-3000)}`);
      runs[mode] = lcovHits(join(dir, "lcov.info"));
    }
    const path: string[] = [];
    for (const [file, lines] of runs.update!) {
      if (!file.startsWith("src/")) continue;
      const idle = runs.idle!.get(file);
      if ([...lines].some(([n, count]) => count > (idle?.get(n) ?? 0))) path.push(file);
    }
    return path.sort();
  } finally {
    rmSync(probe, { force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
const root = resolve(args.find((a) => !a.startsWith("--")) ?? ".");
const graph = buildImportGraph(root);
const folders = folderGraph(graph);
const report = {
  root,
  source: sourceFigures(root),
  imports: {
    files: graph.files.length,
    edges: graph.edges.length,
    typeOnlyEdges: graph.edges.filter((e) => e.typeOnly).length,
    runtimeCycles: importCycles(graph, false),
    cyclesWithTypes: importCycles(graph, true),
    folderCycles: importCycles(folders, true).map((c) => cycleThrough(folders, c, true)),
    longestChain: longestImportChain(graph, "src/main.ts"),
  },
  updatePath: updatePath(root),
  tests: testCounts(root),
};

if (args.includes("--json")) console.log(JSON.stringify(report, null, 2));
else {
  const r = report;
  const s = r.source;
  console.log(`tree: ${r.root}`);
  console.log(`src/: ${s.all.files} files, ${s.all.lines} lines, ${s.all.bytes} bytes (migration snapshots left out)`);
  console.log(`  .ts: ${s.ts.files} files, ${s.ts.lines} lines, ${s.ts.bytes} bytes; median ${s.ts.medianLines} lines, largest ${s.ts.maxLines}`);
  console.log(`  over 300 lines: ${s.over300.length ? s.over300.join(", ") : "none"}`);
  const i = r.imports;
  console.log(`imports: ${i.edges} between ${i.files} files (${i.typeOnlyEdges} type-only)`);
  console.log(`  file cycles (runtime): ${i.runtimeCycles.length}; counting type-only imports: ${i.cyclesWithTypes.length}${i.cyclesWithTypes.map((c) => `\n    ${c.join(" ↔ ")}`).join("")}`);
  console.log(`  folder cycles: ${i.folderCycles.length}${i.folderCycles.map((c) => `\n    ${c.join(" → ")}`).join("")}`);
  console.log(`  longest import chain from src/main.ts: ${i.longestChain.length} files`);
  console.log(`one update's path: ${r.updatePath.length} files\n    ${r.updatePath.join("\n    ")}`);
  const total = Object.values(r.tests).reduce((n, t) => n + t.tests, 0);
  console.log(`tests: ${total} (${TEST_LAYERS.map((l) => `${l} ${r.tests[l]!.tests} in ${r.tests[l]!.files} files`).join(", ")})`);
}
