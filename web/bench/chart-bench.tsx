// bench.web: draws the dashboard's Chart with N synthetic daily points and reports how long uPlot took.
import { render } from "preact";
import { Chart } from "../src/chart";
import type { SeriesPoint } from "../src/types";

function points(n: number): SeriesPoint[] {
  const start = Date.parse("2025-01-01T00:00:00Z");
  return Array.from({ length: n }, (_, i) => {
    const day = new Date(start + i * 86_400_000).toISOString().slice(0, 10);
    const views = Math.round(1000 + 800 * Math.sin(i / 7) + i * 3);
    return { period_start: day, period_end: day, views, likes: views / 10, comments: null, reposts: null,
      saves: null, snapshots: 1 };
  });
}

(window as unknown as { benchChart: (n: number) => Promise<number> }).benchChart = async (n: number) => {
  const box = document.getElementById("bench")!;
  render(null, box);
  const data = points(n);
  render(<Chart points={data} metrics={["views"]} label="bench" />, box);
  for (let i = 0; i < 100; i++) {
    const ms = box.querySelector("figure")?.getAttribute("data-draw-ms");
    if (ms) return Number(ms);
    await new Promise((r) => requestAnimationFrame(r));
  }
  throw new Error("the chart never drew");
};
