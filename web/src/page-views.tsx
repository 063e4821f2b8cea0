import { useState } from "preact/hooks";
import { get } from "./api";
import { Empty, ErrorBox, Freshness, Loading, Num, Page, Select, useLoad } from "./components";
import { daysBefore } from "./format";
import type { PageViewsReport } from "./types";

export function PageViewsScreen() {
  const [days, setDays] = useState("7");
  const report = useLoad(() => get<PageViewsReport>("/page-views/report", {
    from: daysBefore(Number(days) - 1), granularity: "day", top: 20 }), [days]);
  const r = report.data;
  const totals = new Map<string, number>();
  for (const row of r?.rows ?? []) totals.set(row.name, (totals.get(row.name) ?? 0) + row.views);
  const dates = [...new Set((r?.rows ?? []).map((row) => row.date))].sort();
  const cell = new Map((r?.rows ?? []).map((row) => [`${row.name} ${row.date}`, row.views]));
  return (
    <Page title="Page views" actions={<Select id="page-views-days" label="Period" value={days} onChange={setDays}
      options={[["1", "Today"], ["7", "Last 7 days"], ["30", "Last 30 days"]]} />}>
      {report.error ? <ErrorBox error={report.error} retry={report.reload} /> : null}
      {!r ? (report.loading ? <Loading what="the report" /> : null) : r.rows.length === 0 ? <Empty>No page views in
        this period.</Empty> : <>
        <p class="meta">The 20 most viewed pages, {r.date_from} to {r.date_to} (UTC) · <Freshness asOf={r.data_as_of} /></p>
        <div class="table-wrap">
          <table class="data">
            <caption class="visually-hidden">Views per page and day</caption>
            <thead><tr><th scope="col">Page</th><th scope="col" class="n">Views</th>
              {dates.map((d) => <th scope="col" class="n" key={d}>{d.slice(5)}</th>)}</tr></thead>
            <tbody>{(r.top ?? []).map((t) => (
              <tr key={t.name}><th scope="row">{t.name}</th><td class="n"><Num value={t.views} /></td>
                {dates.map((d) => <td class="n" key={d}><Num value={cell.get(`${t.name} ${d}`) ?? 0} /></td>)}</tr>))}
            </tbody>
          </table>
        </div>
      </>}
    </Page>
  );
}
