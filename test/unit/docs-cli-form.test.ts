/**
 * One way to run the CLI on a VM in every doc (issue 16): `sudo tgwh-admin CMD`, which brings the
 * service's settings, credentials and database and acts as the service's user. A command line in
 * a doc's code block that runs `tgwh CMD` any other way (plain, `sudo tgwh`, `sudo -u tgwh`) would
 * read no credentials, or write files the service cannot.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const REPO = join(import.meta.dir, "../..");
const SUBCOMMANDS = ["serve", "migrate", "webhook", "token", "jobs", "initdata", "smoke", "doctor", "backup", "restore", "store", "version"];
/** `tgwh CMD` as a command word: at the start, or after sudo, a pipe, `&&`, `;` or `(`. */
const RUNS_TGWH = new RegExp(`(^|[|;&(]\\s*|sudo\\s+(-u\\s+\\S+\\s+)?)(\\S*/)?tgwh\\s+(${SUBCOMMANDS.join("|")})\\b`);

/** The lines of a markdown text's fenced code blocks, with their line numbers. Pure. */
function codeLines(markdown: string): { n: number; line: string }[] {
  const out: { n: number; line: string }[] = [];
  let inBlock = false;
  markdown.split("\n").forEach((line, i) => {
    if (/^\s*```/.test(line)) inBlock = !inBlock;
    else if (inBlock) out.push({ n: i + 1, line });
  });
  return out;
}

/** Code lines that run a tgwh subcommand other than through `sudo tgwh-admin`. Pure. */
function otherCliForms(markdown: string): string[] {
  return codeLines(markdown)
    .filter(({ line }) => RUNS_TGWH.test(line.replace(/#.*$/, "")))
    .map(({ n, line }) => `${n}: ${line.trim()}`);
}

const docs = ["README.md", ...readdirSync(join(REPO, "docs")).map((f) => `docs/${f}`), ...readdirSync(join(REPO, "deploy")).map((f) => `deploy/${f}`)].filter((f) =>
  f.endsWith(".md"),
);

describe("the check itself", () => {
  test("finds tgwh run plainly, under sudo or sudo -u, by path or after a pipe; passes tgwh-admin, prose and comments", () => {
    const md = [
      "tgwh token list is mentioned in prose",
      "```sh",
      "sudo tgwh-admin token list",
      "tgwh jobs ls",
      "sudo tgwh doctor",
      "sudo -u tgwh tgwh backup --dir /x",
      "cat x | /usr/local/bin/tgwh initdata verify",
      "systemctl restart tgwh   # then tgwh doctor",
      "make run",
      "```",
    ].join("\n");
    expect(otherCliForms(md)).toEqual(["4: tgwh jobs ls", "5: sudo tgwh doctor", "6: sudo -u tgwh tgwh backup --dir /x", "7: cat x | /usr/local/bin/tgwh initdata verify"]);
  });
});

describe("every doc", () => {
  test(`runs the CLI as \`sudo tgwh-admin CMD\` (${docs.length} files)`, () => {
    const found = docs.flatMap((f) => otherCliForms(readFileSync(join(REPO, f), "utf8")).map((l) => `${f}:${l}`));
    expect(found).toEqual([]);
  });
  test("never says `sudo -u tgwh`", () => {
    const found = docs.filter((f) => readFileSync(join(REPO, f), "utf8").includes("sudo -u tgwh"));
    expect(found).toEqual([]);
  });
});
