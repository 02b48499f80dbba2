/**
 * The Chromium the browser tests drive: TGWH_CHROMIUM when set, else `chromium` (or
 * `chromium-browser`) on PATH. Missing, the test file stops at load with the apt-get line to run,
 * unless TGWH_TEST_PREREQS=skip, which skips the browser tests with a warning instead.
 */
import { accessSync, constants } from "node:fs";

export const CHROMIUM_INSTALL = "sudo apt-get install -y --no-install-recommends chromium";

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** Where Chromium is, or null. Pure apart from the lookups it is given. */
export function findChromium(
  env: Record<string, string | undefined>,
  which: (name: string) => string | null = (name) => Bun.which(name, { PATH: env.PATH ?? "" }),
  isExecutable: (path: string) => boolean = executable,
): string | null {
  const given = env.TGWH_CHROMIUM?.trim();
  if (given) {
    if (!isExecutable(given)) throw new Error(`TGWH_CHROMIUM=${given} is not an executable file; point it at Chromium, or unset it to use chromium on PATH`);
    return given;
  }
  return which("chromium") ?? which("chromium-browser");
}

function chromiumOrStop(env: Record<string, string | undefined>): string | null {
  const found = findChromium(env);
  if (found) return found;
  const why = "Chromium is not installed (no chromium on PATH, TGWH_CHROMIUM unset)";
  if (env.TGWH_TEST_PREREQS === "skip") {
    console.warn(`${why}: the browser tests are skipped (${CHROMIUM_INSTALL})`);
    return null;
  }
  throw new Error(`${why}; the browser tests need it. Run: ${CHROMIUM_INSTALL} (or set TGWH_CHROMIUM to a Chromium binary)`);
}

/** Null only with TGWH_TEST_PREREQS=skip; the browser tests then skip. */
export const CHROMIUM: string | null = chromiumOrStop(process.env);

/** The flags every browser test launches with: headless in a container, nothing fetched from outside. */
export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
