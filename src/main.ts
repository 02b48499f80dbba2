import { migrateCommand, serveCommand, versionCommand } from "./cli/basic";
import { reportCliError, wantsHelp, type Command } from "./cli/command";
import { initdataCommand } from "./cli/initdata";
import { backupCommand } from "./cli/backup";
import { jobsCommand } from "./cli/jobs";
import { tokenCommand } from "./cli/token";
import { webhookCommand } from "./cli/webhook";
import { doctorCommand } from "./cli/doctor";
import { smokeCommand } from "./cli/smoke";
import { restoreCommand } from "./cli/restore";
import { storeCommand } from "./cli/store";

/** Every subcommand, one row each; `serve` is the default. */
const COMMANDS: Command[] = [serveCommand, migrateCommand, versionCommand, initdataCommand, webhookCommand, tokenCommand, jobsCommand, backupCommand, restoreCommand, doctorCommand, smokeCommand, storeCommand];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "tgwh: durable Telegram webhook gateway with Seamless Telegram Auth",
    "",
    "usage: tgwh <command> [options]   (tgwh <command> --help for details)",
    "",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Configuration comes from TGWH_* environment variables; see the README.",
  ].join("\n");
}

export async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const [name = "serve", ...args] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    console.log(help());
    return 0;
  }
  if (name === "--version") return versionCommand.run([], env);
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`tgwh: unknown command '${name}'\n\n${help()}\n`);
    return 2;
  }
  if (wantsHelp(args)) {
    console.log(`${cmd.summary}\n\nusage: ${cmd.usage}`);
    return 0;
  }
  try {
    return await cmd.run(args, env);
  } catch (err) {
    return reportCliError(err, cmd.usage);
  }
}

if (import.meta.main) {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`tgwh: fatal: ${(err as Error)?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
