// A uPlot time series of the API's points. What was drawn is exposed for tests and assistive technology: the
// figure's data-drawn attribute holds the plotted days and values (read back from uPlot), and a visually hidden
// table lists the same points.
import "./browser_language"; // first: uPlot reads the browser's language as it loads
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { exact } from "./format";
import type { Metric, SeriesPoint } from "./types";

const COLORS: Record<Metric, string> = {
  views: "#2563eb", likes: "#db2777", comments: "#059669", reposts: "#d97706", saves: "#7c3aed",
};

export function toEpoch(day: string): number { return Date.parse(`${day}T00:00:00Z`) / 1000; }
export function fromEpoch(seconds: number): string { return new Date(seconds * 1000).toISOString().slice(0, 10); }

export function chartData(points: SeriesPoint[], metrics: Metric[]): uPlot.AlignedData {
  return [points.map((p) => toEpoch(p.period_start)), ...metrics.map((m) => points.map((p) => p[m]))];
}

export function Chart({ points, metrics, label, height = 240 }: {
  points: SeriesPoint[]; metrics: Metric[]; label: string; height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const figure = useRef<HTMLElement>(null);
  useEffect(() => {
    const element = box.current!;
    const started = performance.now();
    const plot = new uPlot({
      width: Math.max(200, element.clientWidth), height,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      legend: { show: metrics.length > 1 },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [{}, { size: 56, values: (_u, ticks) => ticks.map((t) => Intl.NumberFormat("en", {
        notation: "compact", maximumFractionDigits: 1 }).format(t)) }],
      series: [{}, ...metrics.map((m) => ({ label: m, stroke: COLORS[m], width: 2, points: { show: points.length < 60 },
        value: (_u: uPlot, v: number | null) => (v === null ? "—" : exact(v)) }))],
      hooks: {
        draw: [(u) => {
          const drawn = { days: (u.data[0] as number[]).map(fromEpoch),
            series: Object.fromEntries(metrics.map((m, i) => [m, Array.from(u.data[i + 1] as (number | null)[])])) };
          figure.current?.setAttribute("data-drawn", JSON.stringify(drawn));
          figure.current?.setAttribute("data-draw-ms", (performance.now() - started).toFixed(2));
        }],
      },
    }, chartData(points, metrics), element);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, element.clientWidth), height }));
    resize.observe(element);
    return () => { resize.disconnect(); plot.destroy(); };
  }, [points, metrics.join(","), height]);
  return (
    <figure class="chart" ref={figure} data-testid="chart">
      <figcaption>{label}</figcaption>
      <div ref={box} class="chart-box" aria-hidden="true" />
      <table class="visually-hidden">
        <caption>{label}</caption>
        <thead><tr><th scope="col">Period</th>{metrics.map((m) => <th scope="col" key={m}>{m}</th>)}</tr></thead>
        <tbody>
          {points.map((p) => (
            <tr key={p.period_start}>
              <th scope="row">{p.period_start === p.period_end ? p.period_start : `${p.period_start} – ${p.period_end}`}</th>
              {metrics.map((m) => <td key={m}>{exact(p[m])}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
