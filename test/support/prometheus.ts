import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/** One scrape of /metrics: series keyed by `name{label="value",…}` with labels sorted by name. */
export interface Scrape {
  values: Map<string, number>;
  /** Every metric family name that has at least one sample (histograms as their _bucket/_sum/_count). */
  names: Set<string>;
  text: string;
}

/** The key of one series, labels sorted, as Scrape.values uses it. */
export function seriesKey(name: string, labels: Record<string, string> = {}): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return parts.length ? `${name}{${parts.join(",")}}` : name;
}

/** Parses the Prometheus text exposition format (enough of it for prom-client's output). */
export function parseExposition(text: string): Scrape {
  const values = new Map<string, number>();
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const [, name, rawLabels, raw] = m as unknown as [string, string, string | undefined, string];
    const labels: Record<string, string> = {};
    for (const l of (rawLabels ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    values.set(seriesKey(name, labels), raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw));
    names.add(name);
  }
  return { values, names, text };
}

export async function scrapeMetrics(baseUrl: string): Promise<Scrape> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  return parseExposition(await res.text());
}

/** The value of one series (0 when the series is absent). */
export const sample = (s: Scrape, name: string, labels: Record<string, string> = {}) => s.values.get(seriesKey(name, labels)) ?? 0;

const REPO = resolve(import.meta.dir, "../..");
export const ALERTS_FILE = resolve(REPO, "deploy/prometheus/alerts.yml");
export const DASHBOARD_FILE = resolve(REPO, "deploy/grafana/tgwh-dashboard.json");

/** tgwh metric names used in PromQL expressions (Prometheus's own `up` is left out). */
export function metricNamesIn(exprs: string[]): Set<string> {
  const out = new Set<string>();
  for (const e of exprs) for (const m of e.matchAll(/\btgwh_[a-z0-9_]+/g)) out.add(m[0]);
  return out;
}

/** The `expr:` blocks of alerts.yml (block scalars or one-liners), without a YAML dependency. */
export function alertExprs(path = ALERTS_FILE): string[] {
  const lines = readFileSync(path, "utf8").split("\n");
  const exprs: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i]!);
    if (!m) continue;
    if (m[2] && m[2] !== "|" && m[2] !== ">") {
      exprs.push(m[2]);
      continue;
    }
    const indent = m[1]!.length;
    const body: string[] = [];
    while (i + 1 < lines.length && (lines[i + 1]!.trim() === "" || lines[i + 1]!.search(/\S/) > indent)) body.push(lines[++i]!);
    exprs.push(body.join("\n"));
  }
  return exprs;
}

/** Every `expr` of every panel target in the Grafana dashboard. */
export function dashboardExprs(path = DASHBOARD_FILE): string[] {
  const dash = JSON.parse(readFileSync(path, "utf8")) as { panels: { targets?: { expr?: string }[] }[]; templating?: { list: { query?: unknown }[] } };
  const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ""));
  for (const v of dash.templating?.list ?? []) {
    const q = typeof v.query === "string" ? v.query : (v.query as { query?: string } | undefined)?.query;
    if (q) exprs.push(q);
  }
  return exprs;
}
