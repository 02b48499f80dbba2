/**
 * Sustained capacity (issue 17, item 3): the highest fixed offered rate a contender holds for a
 * whole run, not a burst whose backlog keeps growing. A rate is *held* when, offered open-loop
 * by bench/loader/fixed-rate.c at 50 connections (Telegram's max_connections is 1–100):
 * - every update got a 2xx (no error, no non-2xx, none left unsent);
 * - ack p99, measured from each update's due time (queueing in front of the server counts), ≤ 1 s;
 * - processing p99 (receipt → handler finished) ≤ 1 s, an update still unfinished 1 s after the
 *   run counting as late; so the backlog stays bounded (max backlog is printed too).
 * tgwh's processing times come from its jobs table (created_at → finished_at); bunqueue's from
 * its contender's /bench/stats; the grammY peer handles inline, so its processing is its ack.
 *
 * Search: short probes (BENCH_SUSTAIN_PROBE_SECONDS, 10) doubling from 1,000/s until one fails,
 * then bisecting to within ~10 %; the best rate found is then confirmed for
 * BENCH_SUSTAIN_SECONDS (60), stepping down 10 % while the confirmation fails. Every probe runs
 * on a fresh process and an empty database.
 * Run alone: bun bench/sustained.ts [kinds=tgwh-full,tgwh-normal,grammy,bunqueue]
 */
import { Database } from "bun:sqlite";
import { startContender, stopFakeApi, type Contender, type ContenderKind, CONTENDERS } from "./lib/contenders";
import { runFixedRate, type FixedRateResult } from "./lib/fixed-rate";
import { fmt, table } from "./lib/stats";

export const SUSTAIN_CONNS = 50;
const LIMIT_MS = 1000;
const FIRST_UPDATE_ID = 5_000_000;

export interface Probe {
  kind: ContenderKind;
  rate: number;
  seconds: number;
  load: FixedRateResult;
  processingP99Ms: number;
  maxBacklog: number;
  held: boolean;
  why: string;
}

export interface SustainedRow {
  kind: ContenderKind;
  label: string;
  /** Highest rate confirmed for the full duration (0: none). */
  rate: number;
  confirm: Probe | null;
  probes: Probe[];
}

/** Processing latency and backlog of a queueing contender, read its own way. */
interface Watcher {
  sample(): void;
  finish(): Promise<{ p99Ms: number; maxBacklog: number }>;
}

function tgwhWatcher(c: Contender, first: number, count: number): Watcher {
  const db = new Database(c.tgwh!.dbPath, { readonly: true });
  const backlog = db.query<{ n: number }, []>("SELECT count(*) AS n FROM jobs WHERE state IN ('pending', 'running')");
  let maxBacklog = 0;
  return {
    sample() {
      maxBacklog = Math.max(maxBacklog, backlog.get()?.n ?? 0);
    },
    async finish() {
      await Bun.sleep(LIMIT_MS);
      const at = Date.now();
      const rows = db
        .query<{ c: number; f: number | null }, [number, number]>("SELECT created_at AS c, finished_at AS f FROM jobs WHERE kind = 'telegram.update' AND seq >= ? AND seq < ?")
        .all(first, first + count);
      db.close();
      const lat = rows.map((r) => (r.f ?? at) - r.c);
      // Updates never stored (refused) count as late too.
      for (let i = rows.length; i < count; i++) lat.push(Infinity);
      lat.sort((a, b) => a - b);
      return { p99Ms: lat[Math.min(lat.length - 1, Math.floor(0.99 * lat.length))] ?? Infinity, maxBacklog };
    },
  };
}

function statsWatcher(c: Contender): Watcher {
  const url = c.url.replace(/\/telegram\/webhook$/, "/bench/stats");
  let maxBacklog = 0;
  const read = async () => (await (await fetch(url)).json()) as { added: number; done: number; backlog: number; p99Ms: number };
  return {
    sample() {
      void read().then((s) => (maxBacklog = Math.max(maxBacklog, s.backlog)), () => {});
    },
    async finish() {
      await Bun.sleep(LIMIT_MS);
      const s = await read();
      // Unfinished updates are late: they weigh in as the share of all updates they are.
      const lateShare = s.added > 0 ? s.backlog / s.added : 0;
      return { p99Ms: lateShare > 0.01 ? Infinity : s.p99Ms, maxBacklog: Math.max(maxBacklog, s.backlog) };
    },
  };
}

export async function probe(kind: ContenderKind, rate: number, seconds: number, log: (l: string) => void): Promise<Probe> {
  const c = await startContender(kind);
  try {
    const count = Math.floor(rate * seconds);
    const watcher: Watcher | null = c.tgwh ? tgwhWatcher(c, FIRST_UPDATE_ID, count) : kind === "bunqueue" ? statsWatcher(c) : null;
    const timer = watcher ? setInterval(() => watcher.sample(), 1000) : null;
    const load = await runFixedRate({ url: c.url, secret: c.secret, rate, seconds, conns: SUSTAIN_CONNS, firstUpdateId: FIRST_UPDATE_ID });
    if (timer) clearInterval(timer);
    const proc = watcher ? await watcher.finish() : { p99Ms: load.p99Ms, maxBacklog: load.maxWaiting };
    const failures: string[] = [];
    if (load.errors || load.non2xx || load.unsent) failures.push(`${load.errors} errors, ${load.non2xx} non-2xx, ${load.unsent} unsent`);
    if (load.p99Ms > LIMIT_MS) failures.push(`ack p99 ${fmt(load.p99Ms)} ms`);
    if (proc.p99Ms > LIMIT_MS) failures.push(`processing p99 ${Number.isFinite(proc.p99Ms) ? `${fmt(proc.p99Ms)} ms` : "unfinished"}`);
    const p: Probe = { kind, rate, seconds, load, processingP99Ms: proc.p99Ms, maxBacklog: proc.maxBacklog, held: failures.length === 0, why: failures.join("; ") };
    log(
      `sustained ${kind.padEnd(12)} ${fmt(rate).padStart(6)}/s × ${seconds} s: ${p.held ? "held" : `NOT held (${p.why})`}; ack p50 ${load.p50Ms.toFixed(1)} p99 ${load.p99Ms.toFixed(1)} ms, processing p99 ${Number.isFinite(p.processingP99Ms) ? p.processingP99Ms.toFixed(0) : "∞"} ms, max backlog ${fmt(p.maxBacklog)}`,
    );
    return p;
  } finally {
    await c.stop();
  }
}

export async function runSustained(o: { kinds: ContenderKind[]; probeSeconds: number; seconds: number; startRate?: number; log?: (l: string) => void }): Promise<SustainedRow[]> {
  const log = o.log ?? ((l: string) => console.error(l));
  const rows: SustainedRow[] = [];
  for (const kind of o.kinds) {
    const probes: Probe[] = [];
    const run = async (rate: number, seconds: number) => {
      const p = await probe(kind, Math.round(rate), seconds, log);
      probes.push(p);
      return p.held;
    };
    // Doubling, then bisection between the last rate held and the first one not held.
    let lo = 0;
    let hi = 0;
    for (let rate = o.startRate ?? 1000; rate <= 256_000; rate *= 2) {
      if (await run(rate, o.probeSeconds)) lo = rate;
      else {
        hi = rate;
        break;
      }
    }
    if (lo === 0 && hi > 0) {
      // Not even the start rate: halve down to 125/s.
      for (let rate = hi / 2; rate >= 125; rate /= 2) {
        if (await run(rate, o.probeSeconds)) {
          lo = rate;
          break;
        }
        hi = rate;
      }
    }
    while (lo > 0 && hi > 0 && hi / lo > 1.1) {
      const mid = Math.sqrt(lo * hi);
      if (await run(mid, o.probeSeconds)) lo = mid;
      else hi = mid;
    }
    let confirm: Probe | null = null;
    let rate = lo;
    for (let tries = 0; rate > 0 && tries < 4; tries++, rate *= 0.9) {
      await run(rate, o.seconds);
      confirm = probes.at(-1)!;
      if (confirm.held) break;
    }
    rows.push({ kind, label: CONTENDERS.find((c) => c.kind === kind)!.label, rate: confirm?.held ? confirm.rate : 0, confirm, probes });
  }
  stopFakeApi();
  return rows;
}

export function sustainedTable(rows: SustainedRow[], seconds: number): string {
  return table(
    ["contender", `highest rate held ${seconds} s`, "ack p50 / p99 ms", "processing p99 ms", "max backlog", "probes (rate: held?)"],
    rows.map((r) => [
      r.label,
      r.rate ? `${fmt(r.rate)} /s` : "none",
      r.confirm ? `${r.confirm.load.p50Ms.toFixed(1)} / ${r.confirm.load.p99Ms.toFixed(1)}` : "–",
      r.confirm && Number.isFinite(r.confirm.processingP99Ms) ? fmt(r.confirm.processingP99Ms) : "–",
      r.confirm ? fmt(r.confirm.maxBacklog) : "–",
      r.probes.map((p) => `${fmt(p.rate)}${p.seconds === seconds ? ` (${seconds} s)` : ""}: ${p.held ? "yes" : "no"}`).join(", "),
    ]),
  );
}

export const sustainedRate = (rows: SustainedRow[], kind: ContenderKind) => rows.find((r) => r.kind === kind)?.rate ?? NaN;

if (import.meta.main) {
  const kinds = (process.argv[2] ?? "tgwh-full,tgwh-normal,grammy,bunqueue").split(",") as ContenderKind[];
  const seconds = Number(process.env.BENCH_SUSTAIN_SECONDS ?? 60);
  const probeSeconds = Number(process.env.BENCH_SUSTAIN_PROBE_SECONDS ?? 10);
  const rows = await runSustained({ kinds, probeSeconds, seconds, startRate: process.env.BENCH_SUSTAIN_START ? Number(process.env.BENCH_SUSTAIN_START) : undefined });
  console.log(sustainedTable(rows, seconds));
}
