import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { alertExprs, ALERTS_FILE, DASHBOARD_FILE } from "../support/prometheus";

/**
 * The alert rules, their promtool unit tests, the example Prometheus config and the Grafana
 * dashboard, checked with the real tools. (That every metric they use exists in the binary's
 * /metrics is checked in test/e2e/metrics.test.ts, against a scrape after real traffic.)
 */
const DIR = resolve(import.meta.dir, "../../deploy/prometheus");
const RUNBOOK = resolve(import.meta.dir, "../../docs/runbook.md");
const ALERTS = ["TgwhWebhookFailureRate", "TgwhBacklogHigh", "TgwhOldestPendingTooOld", "TgwhDeadJobsIncreasing", "TgwhBotApi429Sustained", "TgwhTargetDown"];

const promtool = Bun.which("promtool");

function runPromtool(args: string[]) {
  if (!promtool) throw new Error("promtool is not installed: `apt-get install prometheus` (.ci/run installs it)");
  const p = Bun.spawnSync([promtool, ...args], { cwd: DIR, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, out: p.stdout.toString() + p.stderr.toString() };
}

describe("deploy/prometheus with promtool", () => {
  test("alerts.yml passes promtool check rules and holds exactly the six alerts", () => {
    const r = runPromtool(["check", "rules", "alerts.yml"]);
    expect(r.out).toContain("SUCCESS: 6 rules found");
    expect(r.code).toBe(0);
    const names = [...readFileSync(ALERTS_FILE, "utf8").matchAll(/^\s*- alert: (\S+)$/gm)].map((m) => m[1]);
    expect(names).toEqual(ALERTS);
  });

  test("alerts.test.yml: every rule fires and stays quiet where it should (promtool test rules)", () => {
    const r = runPromtool(["test", "rules", "alerts.test.yml"]);
    expect(r.out).toContain("SUCCESS");
    expect(r.code).toBe(0);
    // Each alert has at least one case where it fires and one where it stays quiet.
    const tests = readFileSync(resolve(DIR, "alerts.test.yml"), "utf8");
    for (const name of ALERTS) {
      const cases = [...tests.matchAll(new RegExp(`alertname: ${name}\\n\\s+exp_alerts:(.*)`, "g"))].map((m) => m[1]!.trim());
      expect({ name, quiet: cases.some((c) => c === "[]") }).toEqual({ name, quiet: true });
      expect({ name, fires: cases.some((c) => c === "") }).toEqual({ name, fires: true });
    }
  });

  test("the example prometheus.yml is valid and loads alerts.yml", () => {
    const r = runPromtool(["check", "config", "prometheus.yml"]);
    expect(r.out).toContain("SUCCESS: 6 rules found");
    expect(r.code).toBe(0);
    expect(readFileSync(resolve(DIR, "prometheus.yml"), "utf8")).toMatch(/job_name: tgwh\n/);
  });

  test("every alert has a summary, a description and a runbook link to its own section", () => {
    const text = readFileSync(ALERTS_FILE, "utf8");
    const blocks = text.split(/\n\s*- alert: /).slice(1);
    expect(blocks).toHaveLength(ALERTS.length);
    for (const block of blocks) {
      const name = block.split("\n")[0]!.trim();
      expect({ name, summary: /\n\s+summary: \S/.test(block), description: /\n\s+description: \S/.test(block) }).toEqual({ name, summary: true, description: true });
      expect(block).toContain(`runbook_url: "docs/runbook.md#alert-${name}"`);
    }
    expect(alertExprs()).toHaveLength(ALERTS.length);
  });

  test.skipIf(!existsSync(RUNBOOK))("docs/runbook.md has the section every runbook_url points to", () => {
    // An explicit anchor (id="alert-Name") or a heading whose slug is alert-name.
    const runbook = readFileSync(RUNBOOK, "utf8").toLowerCase();
    for (const name of ALERTS) expect({ name, anchor: runbook.includes(`alert-${name.toLowerCase()}`) }).toEqual({ name, anchor: true });
  });
});

describe("deploy/grafana/tgwh-dashboard.json", () => {
  const dash = JSON.parse(readFileSync(DASHBOARD_FILE, "utf8")) as {
    uid: string;
    title: string;
    templating: { list: { name: string; type: string; query: unknown }[] };
    panels: { type: string; title: string; datasource?: { uid?: string }; targets?: { expr: string; datasource?: { uid?: string } }[] }[];
  };

  test("is importable: a title, a uid, panels with queries, and the data source is a variable", () => {
    expect(dash.title).toBe("tgwh");
    expect(dash.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    const ds = dash.templating.list.find((v) => v.type === "datasource");
    expect(ds).toMatchObject({ name: "datasource", query: "prometheus" });
    const queryPanels = dash.panels.filter((p) => p.type !== "row");
    expect(queryPanels.length).toBeGreaterThanOrEqual(10);
    for (const p of queryPanels) {
      expect({ panel: p.title, uid: p.datasource?.uid }).toEqual({ panel: p.title, uid: "${datasource}" });
      expect(p.targets?.length ?? 0).toBeGreaterThan(0);
      for (const t of p.targets!) expect({ panel: p.title, uid: t.datasource?.uid, expr: t.expr.length > 0 }).toEqual({ panel: p.title, uid: "${datasource}", expr: true });
    }
    // No data source pinned anywhere (an import would then point at a uid that does not exist).
    expect(JSON.stringify(dash)).not.toMatch(/"uid":\s*"(?!\$\{datasource\}|tgwh-overview)[^"]*"/);
  });

  test("covers webhook rate and success, ack and processing latency, queue depth and age, Bot API errors", () => {
    const exprs = dash.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr).join("\n");
    for (const name of [
      "tgwh_webhook_requests_total",
      "tgwh_webhook_ack_seconds_bucket",
      "tgwh_job_processing_seconds_bucket",
      "tgwh_queue_jobs",
      "tgwh_queue_oldest_pending_age_seconds",
      "tgwh_bot_api_requests_total",
    ]) {
      expect(exprs).toContain(name);
    }
  });
});
