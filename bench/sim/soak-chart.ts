/**
 * A hand-written SVG of a soak run: stacked panels sharing one time axis (ack rate, queue depth,
 * p99 received→done latency, RSS), with the chaos events drawn across all of them. Pure.
 */
export interface Series {
  title: string;
  unit: string;
  points: { t: number; v: number }[];
  color: string;
}

export interface ChartEvent {
  t: number;
  kind: "kill9" | "sigterm" | "backup" | "burst429";
}

const EVENT_STYLE: Record<ChartEvent["kind"], { color: string; label: string; dash: string }> = {
  kill9: { color: "#d62728", label: "kill -9", dash: "4 3" },
  sigterm: { color: "#ff7f0e", label: "SIGTERM restart", dash: "8 3" },
  backup: { color: "#1f77b4", label: "tgwh backup", dash: "2 2" },
  burst429: { color: "#9467bd", label: "429 burst", dash: "1 3" },
};

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const fmt = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(v >= 10_000 ? 0 : 1)}k` : v >= 10 ? v.toFixed(0) : v.toFixed(1));

export function renderSoakSvg(opts: { title: string; subtitle: string; durationS: number; series: Series[]; events: ChartEvent[] }): string {
  const W = 1100;
  const left = 70;
  const right = 20;
  const top = 80;
  const panelH = 130;
  const gap = 28;
  const plotW = W - left - right;
  const H = top + opts.series.length * (panelH + gap) + 50;
  const x = (t: number) => left + (Math.max(0, Math.min(opts.durationS, t)) / Math.max(1, opts.durationS)) * plotW;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${left}" y="24" font-size="17" font-weight="bold">${esc(opts.title)}</text>`);
  out.push(`<text x="${left}" y="44" fill="#444">${esc(opts.subtitle)}</text>`);

  opts.series.forEach((s, i) => {
    const y0 = top + i * (panelH + gap);
    const max = niceMax(Math.max(0, ...s.points.map((p) => p.v)));
    const y = (v: number) => y0 + panelH - (v / max) * panelH;
    out.push(`<text x="${left}" y="${y0 - 6}" font-weight="bold">${esc(s.title)} <tspan font-weight="normal" fill="#666">(${esc(s.unit)})</tspan></text>`);
    out.push(`<rect x="${left}" y="${y0}" width="${plotW}" height="${panelH}" fill="#fafafa" stroke="#ccc"/>`);
    for (const f of [0, 0.5, 1]) {
      out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(max * f)}" y2="${y(max * f)}" stroke="#e4e4e4"/>`);
      out.push(`<text x="${left - 6}" y="${y(max * f) + 4}" text-anchor="end" fill="#666">${fmt(max * f)}</text>`);
    }
    for (const e of opts.events) {
      const st = EVENT_STYLE[e.kind];
      out.push(`<line x1="${x(e.t)}" x2="${x(e.t)}" y1="${y0}" y2="${y0 + panelH}" stroke="${st.color}" stroke-dasharray="${st.dash}" stroke-width="1.2"/>`);
    }
    if (s.points.length > 0) {
      const d = s.points.map((p, j) => `${j === 0 ? "M" : "L"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
    }
  });

  const axisY = top + opts.series.length * (panelH + gap) - gap + 16;
  // Whole minutes on long runs, whole seconds on short ones.
  const step = opts.durationS >= 600 ? niceMax(opts.durationS / 60 / 10) * 60 : niceMax(opts.durationS / 10);
  for (let t = 0; t <= opts.durationS + 0.001; t += step) {
    const label = opts.durationS >= 600 ? `${Math.round(t / 60)} min` : `${Math.round(t)} s`;
    out.push(`<text x="${x(t)}" y="${axisY}" text-anchor="middle" fill="#444">${label}</text>`);
  }
  let lx = left;
  const legendY = axisY + 22;
  for (const kind of Object.keys(EVENT_STYLE) as ChartEvent["kind"][]) {
    const n = opts.events.filter((e) => e.kind === kind).length;
    if (n === 0) continue;
    const st = EVENT_STYLE[kind];
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${st.color}" stroke-dasharray="${st.dash}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 30}" y="${legendY}">${esc(`${st.label} (${n})`)}</text>`);
    lx += 190;
  }
  out.push("</svg>");
  return out.join("\n");
}
