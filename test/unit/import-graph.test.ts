/**
 * The import graph of src/ has no cycles, between files or between folders (scripts/import-graph.ts;
 * issue 18: queue/ → telegram/ → queue/ was one). The detector itself is checked on small graphs first.
 */
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { buildImportGraph, folderGraph, importCycles, importsOf, longestImportChain, type ImportGraph } from "../../scripts/import-graph";

const graph = (edges: [string, string, boolean?][]): ImportGraph => ({
  files: [...new Set(edges.flatMap(([a, b]) => [a, b]))].sort(),
  edges: edges.map(([from, to, typeOnly]) => ({ from, to, typeOnly: typeOnly ?? false })),
});

describe("the detector", () => {
  test("finds a cycle, a type-only one only when types count, and none in a chain", () => {
    expect(importCycles(graph([["a", "b"], ["b", "c"], ["c", "a"]]), false)).toEqual([["a", "b", "c"]]);
    expect(importCycles(graph([["a", "b"], ["b", "a", true]]), false)).toEqual([]);
    expect(importCycles(graph([["a", "b"], ["b", "a", true]]), true)).toEqual([["a", "b"]]);
    expect(importCycles(graph([["a", "b"], ["b", "c"]]), true)).toEqual([]);
  });
  test("folders: files that never import each other can still tie two folders together", () => {
    const g = graph([["src/queue/notify.ts", "src/telegram/jobs.ts"], ["src/telegram/jobs.ts", "src/queue/errors.ts"]]);
    expect(importCycles(g, true)).toEqual([]);
    expect(importCycles(folderGraph(g), true)).toEqual([["src/queue/", "src/telegram/"]]);
  });
  test("type-only imports are told apart from runtime ones", () => {
    expect(importsOf('import type { A } from "./a";\nimport { type B } from "./b";\nimport { c, type C } from "./c";\nexport * from "./d";\nconst e = await import("./e");')).toEqual([
      { spec: "./a", typeOnly: true },
      { spec: "./b", typeOnly: true },
      { spec: "./c", typeOnly: false },
      { spec: "./d", typeOnly: false },
      { spec: "./e", typeOnly: false },
    ]);
  });
  test("the longest chain follows runtime imports only", () => {
    expect(longestImportChain(graph([["m", "a"], ["a", "b"], ["m", "c"], ["c", "x", true]]), "m")).toEqual(["m", "a", "b"]);
  });
});

describe("src/", () => {
  const src = buildImportGraph(resolve(import.meta.dir, "../.."));
  test("no cycle between files, type-only imports included", () => {
    expect(importCycles(src, true)).toEqual([]);
  });
  test("no cycle between folders", () => {
    expect(importCycles(folderGraph(src), true)).toEqual([]);
  });
});
