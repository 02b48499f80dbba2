import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chainSwitchBlocker } from "../../src/cli/chain-switch-guard";
import { removeDir, tempDir } from "../support/tgwh";

/** A fake /proc: each process has the database open through fd 3 and an exe with or without the 0003 tag. */
let root: string;
let db: string;
function fakeProcess(pid: number, exe: string, cmd: string): void {
  const dir = join(root, "proc", String(pid));
  mkdirSync(join(dir, "fd"), { recursive: true });
  symlinkSync(db, join(dir, "fd", "3"));
  writeFileSync(join(dir, "exe"), exe);
  writeFileSync(join(dir, "cmdline"), cmd.split(" ").join("\0"));
}

beforeEach(() => {
  root = tempDir();
  db = join(root, "tgwh.db");
  writeFileSync(db, "");
});
afterEach(() => removeDir(root));

describe("chainSwitchBlocker", () => {
  test("nothing has the file open: either switch may run", () => {
    mkdirSync(join(root, "proc"));
    expect(chainSwitchBlocker(db, "list", join(root, "proc"))).toBeNull();
    expect(chainSwitchBlocker(db, "index", join(root, "proc"))).toBeNull();
  });

  test("to the lists: a tgwh that knows them may keep running; an older one or another program is named", () => {
    fakeProcess(101, "ELF…embedded migrations 0000_init 0003_job_chains…", "/usr/local/bin/tgwh serve");
    expect(chainSwitchBlocker(db, "list", join(root, "proc"))).toBeNull();
    fakeProcess(102, "ELF…embedded migrations 0000_init 0002_job_state_discarded…", "/usr/local/lib/tgwh/previous/tgwh serve");
    const why = chainSwitchBlocker(db, "list", join(root, "proc"))!;
    expect(why).toContain("pid 102 (/usr/local/lib/tgwh/previous/tgwh serve)");
    expect(why).not.toContain("pid 101");
    expect(why).toContain("stop it first");
  });

  test("back to the index: any process on the file is named, a current tgwh too", () => {
    fakeProcess(101, "0003_job_chains", "/usr/local/bin/tgwh serve");
    expect(chainSwitchBlocker(db, "index", join(root, "proc"))).toContain("pid 101 (/usr/local/bin/tgwh serve)");
  });
});
