import { dirname, join } from "node:path";

/**
 * The URL to give `new Worker()` for a thread's entry file, named by its path under src/
 * (e.g. "store/sqlite/commit/checkpoint-thread.ts"), both under `bun src/main.ts` / `bun test` and in the
 * compiled binary, where the file must also be a `make build` entrypoint.
 *
 * Why not `new URL("./x.ts", import.meta.url)`: in `make build`'s binary (--bytecode),
 * import.meta.url is the *build machine's source path*, so that URL loads the .ts from disk when
 * the checkout exists (not the code that was built) and fails with ModuleNotFound anywhere else;
 * without --bytecode it is the bundle's own name, which loses the file's folder. The binary
 * embeds each extra entrypoint at `/$bunfs/root/<path from the entrypoints' common folder>.js`;
 * that folder is src/ as long as src/main.ts is one of them (checked with Bun 1.4.5 by moving the
 * source tree away before running the binary).
 */
export function threadEntry(fromSrc: string): string {
  if (Bun.isStandaloneExecutable) return join(dirname(Bun.main), fromSrc.replace(/\.ts$/, ".js"));
  return new URL(`./${fromSrc}`, import.meta.url).href;
}
