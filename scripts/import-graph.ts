/**
 * The import graph of src/: which file imports which, the cycles, and the longest import chain
 * from src/main.ts. `bun scripts/import-graph.ts [ROOT]` prints them and exits 1 when a cycle
 * exists, between files or between folders; scripts/codebase-report.ts and test/unit/import-graph.test.ts use the functions.
 *
 * Type-only imports (`import type`, or every name marked `type`) are erased at build time, so
 * they cannot make a load-order cycle; they are still counted, because a type cycle ties two
 * modules together just as tightly for the reader.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

export interface ImportEdge {
  from: string;
  to: string;
  typeOnly: boolean;
}

export interface ImportGraph {
  /** Every .ts file under src/, as a path relative to the root (src/...). */
  files: string[];
  edges: ImportEdge[];
}

/** Every file under `dir`, relative to `root`, sorted. */
export function listFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(root, p));
    }
  };
  if (existsSync(join(root, dir))) walk(join(root, dir));
  return out.sort();
}

function resolveSpecifier(root: string, fromFile: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null;
  const base = resolve(root, dirname(fromFile), spec);
  for (const candidate of [base, `${base}.ts`, base.replace(/\.js$/, ".ts"), join(base, "index.ts")]) {
    if (candidate.endsWith(".ts") && existsSync(candidate) && statSync(candidate).isFile()) return relative(root, candidate);
  }
  return null;
}

/** The relative imports of one source file, each marked type-only or not. Pure (given the text). */
export function importsOf(text: string): { spec: string; typeOnly: boolean }[] {
  const sf = ts.createSourceFile("x.ts", text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: { spec: string; typeOnly: boolean }[] = [];
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const clause = st.importClause;
      let typeOnly = false;
      if (clause) {
        const named = clause.namedBindings;
        const allNamedTypes = !!named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
        typeOnly = clause.isTypeOnly || (!clause.name && allNamedTypes);
      }
      found.push({ spec: st.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
      found.push({ spec: st.moduleSpecifier.text, typeOnly: st.isTypeOnly });
    }
  }
  // import("./x") anywhere in the file: a runtime edge, even if it is taken late.
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteral(arg)) found.push({ spec: arg.text, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

export function buildImportGraph(root: string): ImportGraph {
  const files = listFiles(root, "src").filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
  const edges: ImportEdge[] = [];
  for (const from of files) {
    const seen = new Map<string, boolean>();
    for (const imp of importsOf(readFileSync(join(root, from), "utf8"))) {
      const to = resolveSpecifier(root, from, imp.spec);
      if (!to) continue;
      // A file imported both ways counts as a runtime import.
      seen.set(to, (seen.get(to) ?? true) && imp.typeOnly);
    }
    for (const [to, typeOnly] of seen) edges.push({ from, to, typeOnly });
  }
  return { files, edges };
}

const adjacency = (g: ImportGraph, withTypes: boolean) => {
  const adj = new Map<string, string[]>(g.files.map((f) => [f, []]));
  for (const e of g.edges) if (withTypes || !e.typeOnly) adj.get(e.from)?.push(e.to);
  return adj;
};

/** Strongly connected components with more than one file (or a file importing itself): the cycles. Tarjan's algorithm. */
export function importCycles(g: ImportGraph, withTypes: boolean): string[][] {
  const adj = adjacency(g, withTypes);
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const strong = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of adj.get(v) ?? []) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (adj.get(v) ?? []).includes(v)) cycles.push(scc.sort());
    }
  };
  for (const f of g.files) if (!index.has(f)) strong(f);
  return cycles;
}

/**
 * The longest chain of runtime imports starting at `start` (main.ts → … → a leaf): how deep a
 * reader may have to follow imports. Only meaningful without cycles; a file on a cycle is
 * visited once.
 */
export function longestImportChain(g: ImportGraph, start: string): string[] {
  const adj = adjacency(g, false);
  const memo = new Map<string, string[]>();
  const visiting = new Set<string>();
  const longest = (v: string): string[] => {
    const known = memo.get(v);
    if (known) return known;
    visiting.add(v);
    let best: string[] = [];
    for (const w of adj.get(v) ?? []) {
      if (visiting.has(w)) continue;
      const chain = longest(w);
      if (chain.length > best.length) best = chain;
    }
    visiting.delete(v);
    const chain = [v, ...best];
    memo.set(v, chain);
    return chain;
  };
  return g.files.includes(start) ? longest(start) : [];
}

/**
 * The same graph one level up: each folder under src/ is one module (src/queue, src/telegram, …),
 * each file directly in src/ is its own. A cycle here (queue → telegram → queue) means two
 * folders cannot be understood or moved apart, even when no two files import each other.
 */
export function folderGraph(g: ImportGraph): ImportGraph {
  const moduleOf = (f: string) => {
    const parts = f.split("/");
    return parts.length > 2 ? `${parts[0]}/${parts[1]}/` : f;
  };
  const files = [...new Set(g.files.map(moduleOf))].sort();
  const edges = new Map<string, ImportEdge>();
  for (const e of g.edges) {
    const from = moduleOf(e.from);
    const to = moduleOf(e.to);
    if (from === to) continue;
    const key = `${from}>${to}`;
    const prev = edges.get(key);
    edges.set(key, { from, to, typeOnly: (prev?.typeOnly ?? true) && e.typeOnly });
  }
  return { files, edges: [...edges.values()] };
}

/** One shortest cycle through `start` inside a component, for printing (a → b → c → a). */
export function cycleThrough(g: ImportGraph, component: string[], withTypes: boolean): string[] {
  const inside = new Set(component);
  const adj = adjacency(g, withTypes);
  const start = component[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of adj.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(prev.get(path[0]!)!);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return component;
}

if (import.meta.main) {
  const root = resolve(process.argv[2] ?? ".");
  const g = buildImportGraph(root);
  const runtime = importCycles(g, false);
  const all = importCycles(g, true);
  console.log(`${g.files.length} files, ${g.edges.length} imports (${g.edges.filter((e) => e.typeOnly).length} type-only)`);
  console.log(`cycles of runtime imports: ${runtime.length}`);
  for (const c of runtime) console.log(`  ${c.join(" ↔ ")}`);
  console.log(`cycles counting type-only imports: ${all.length}`);
  for (const c of all) console.log(`  ${c.join(" ↔ ")}`);
  const folders = folderGraph(g);
  const folderCycles = importCycles(folders, true);
  console.log(`cycles between folders (src/x/ as one module, type-only imports counted): ${folderCycles.length}`);
  for (const c of folderCycles) console.log(`  ${cycleThrough(folders, c, true).join(" → ")}${c.length > 2 ? `  (component: ${c.join(", ")})` : ""}`);
  const chain = longestImportChain(g, "src/main.ts");
  console.log(`longest runtime import chain from src/main.ts: ${chain.length} files`);
  console.log(`  ${chain.join(" → ")}`);
  process.exit(all.length > 0 || folderCycles.length > 0 ? 1 : 0);
}
