import { jobView, nextCursor } from "../admin/views";
import { RETRY_DEAD_MAX } from "../store/job-rules";
import { JOB_STATES, type JobState } from "../store/states";
import { openCliAdmin } from "./admin-context";
import { intOption, output, parseArgs } from "./args";
import { EXIT, UsageError, type Command } from "./command";

const USAGE = `tgwh jobs ls [--state pending|running|done|discarded|dead] [--kind KIND] [--limit N] [--cursor C] [--payload] [--json]
       tgwh jobs retry ID... [--json]
       tgwh jobs retry --all-dead [--limit N] [--json]

  ls     newest first; --cursor takes the "next cursor" of the previous page
  retry  a dead job goes back to pending with its attempts reset (the same as POST /admin/jobs/{id}/retry)`;

/** The failure without the job id the line already starts with ("job 7: not retried: no such job"). Pure. */
const retryFailure = (message: string) => message.replace(/^no job with id \d+$/, "no such job").replace(/^job \d+ is (\w+); only dead jobs can be retried$/, "it is $1, only dead jobs can be");

/** `tgwh jobs …`: the same queries as GET /admin/jobs and POST /admin/jobs/{id}/retry. */
export const jobsCommand: Command = {
  name: "jobs",
  summary: "list jobs and retry dead ones",
  usage: USAGE,
  async run(args, env) {
    const [sub, ...rest] = args;
    if (sub !== "ls" && sub !== "retry") throw new UsageError(sub ? `unknown jobs subcommand '${sub}'` : "missing subcommand: ls or retry");
    const p = parseArgs(rest, { flags: ["--json", "--all-dead", "--payload"], options: ["--state", "--kind", "--limit", "--cursor"] });
    const json = p.flags.has("--json");

    if (sub === "ls") {
      const state = p.options.get("--state");
      if (state !== undefined && !(JOB_STATES as readonly string[]).includes(state)) throw new UsageError(`--state must be one of ${JOB_STATES.join(", ")}`);
      const cursor = p.options.get("--cursor");
      if (cursor !== undefined && !/^\d{1,16}$/.test(cursor)) throw new UsageError("--cursor must be the number printed as the next cursor");
      if (p.positionals.length) throw new UsageError(`unexpected argument '${p.positionals[0]}'`);
      const limit = intOption(p, "--limit", 50, 1, 500);
      const admin = await openCliAdmin(env);
      try {
        const rows = await admin.store.jobs.list({ state: state as JobState | undefined, kind: p.options.get("--kind"), limit, cursor: cursor ? Number(cursor) : undefined });
        const next = nextCursor(rows, limit);
        const jobs = rows.map((j) => jobView(j, p.flags.has("--payload")));
        output(json, { jobs, nextCursor: next }, () =>
          [
            "ID        STATE    KIND              ATTEMPTS  CREATED                   LAST ERROR",
            ...jobs.map((j) =>
              `${String(j.id).padEnd(8)}  ${j.state.padEnd(7)}  ${j.kind.padEnd(16)}  ${`${j.attempts}/${j.maxAttempts}`.padEnd(8)}  ${j.createdAt}  ${(j.lastError ?? "").slice(0, 60)}`,
            ),
            ...(next ? [`(more: --cursor ${next})`] : []),
          ].join("\n"),
        );
        return EXIT.ok;
      } finally {
        await admin.close();
      }
    }

    if (p.flags.has("--all-dead")) {
      if (p.positionals.length) throw new UsageError("give job ids or --all-dead, not both");
      const limit = intOption(p, "--limit", 100, 1, RETRY_DEAD_MAX);
      const admin = await openCliAdmin(env);
      try {
        const res = await admin.operations.retryDeadJobs(admin.actor, limit);
        output(json, res, () => `retried ${res.retried.length} dead job(s)${res.remaining ? `; ${res.remaining} still dead (run again)` : ""}`);
        return EXIT.ok;
      } finally {
        await admin.close();
      }
    }
    if (p.positionals.length === 0) throw new UsageError("retry needs job ids (or --all-dead)");
    const ids = p.positionals.map((s) => {
      if (!/^\d{1,16}$/.test(s) || Number(s) < 1) throw new UsageError(`'${s}' is not a job id`);
      return Number(s);
    });
    const admin = await openCliAdmin(env);
    try {
      const results: { id: number; outcome: string; state?: string }[] = [];
      for (const id of ids) {
        // One id failing does not stop the others: each line says what happened to its job.
        const r = await admin.operations.retryJob(admin.actor, id).then(
          () => ({ id, outcome: "retried" }),
          (err: Error) => ({ id, outcome: "failed", error: err.message }),
        );
        results.push(r);
      }
      const failed = results.filter((r) => r.outcome !== "retried");
      output(json, { results }, () => results.map((r) => (r.outcome === "retried" ? `job ${r.id}: retried` : `job ${r.id}: not retried: ${retryFailure((r as { error?: string }).error ?? "")}`)).join("\n"));
      return failed.length ? EXIT.failure : EXIT.ok;
    } finally {
      await admin.close();
    }
  },
};
