// GET /videos as a table: sorted by any total, any growth (metric and period) or newest first, paged with the API's
// cursors.
import { useState } from "preact/hooks";
import { get } from "./api";
import { Empty, ErrorBox, Freshness, Growth, Loading, Num, Select, useLoad } from "./components";
import { ago, when } from "./format";
import { href } from "./router";
import type { Metric, Period, VideoPage } from "./types";
import { METRICS } from "./types";

export interface VideoFilters {
  campaign_id?: string; blogger_id?: string; platform?: string; q?: string; health?: string; tracking_state?: string;
}
// "recent": the workspace's newest first (when it started tracking each video).
type Sort = { by: "total" | "growth" | "recent"; metric: Metric };

const PAGE_SIZE = 20;

/** `shared`: a share link's token: its videos (GET /shared/{token}/videos), with no links to member screens. */
export function VideosTable({ query, shared }: { query: VideoFilters; shared?: string }) {
  const [sort, setSort] = useState<Sort>({ by: "total", metric: "views" });
  const [period, setPeriod] = useState<Period>("7d");
  const [size, setSize] = useState(String(PAGE_SIZE));
  const pageSize = Number(size);
  const filters = JSON.stringify(query);
  // The cursor of each page shown so far, for this query only: a cursor is valid only for its own query.
  const key = JSON.stringify([filters, sort, period, size]);
  const [paging, setPaging] = useState<{ key: string; cursors: (string | null)[] }>({ key, cursors: [null] });
  const cursors = paging.key === key ? paging.cursors : [null];
  const setCursors = (next: (string | null)[]) => setPaging({ key, cursors: next });
  const cursor = cursors[cursors.length - 1];
  const request = JSON.stringify([key, cursor]);
  const path = shared ? `/shared/${encodeURIComponent(shared)}/videos` : "/videos";
  const loaded = useLoad(async () => ({ request, page: await get<VideoPage>(path, {
    ...query, sort: sort.by === "total" ? sort.metric : sort.by, metric: sort.metric, period, limit: pageSize, cursor,
  }) }), [request]);
  // While the next page loads, the previous one stays on screen, marked busy (data-current="false").
  const page = { ...loaded, data: loaded.data?.page ?? null };
  const current = loaded.data?.request === request && !loaded.loading;
  const header = (by: Sort["by"], metric: Metric) => {
    const active = sort.by === by && (by === "recent" || sort.metric === metric);
    const label = by === "total" ? metric : by === "growth" ? `+${period} ${metric}` : "added";
    const title = by === "recent" ? "Sort by when tracking started, newest first"
      : `Sort by ${by === "total" ? "total" : "growth over " + period} ${metric}, highest first`;
    return (
      <th scope="col" class="n" aria-sort={active ? "descending" : undefined} key={by === "recent" ? by : `${by}-${metric}`}>
        <button type="button" class={active ? "sort active" : "sort"} onClick={() => setSort({ by, metric })}
          title={title}>
          {label}{active ? " ↓" : ""}
        </button>
      </th>
    );
  };
  return (
    <div class="videos-table">
      <div class="controls">
        <Select id="videos-period" label="Growth period" value={period} onChange={setPeriod}
          options={[["1d", "1 day"], ["7d", "7 days"], ["30d", "30 days"]]} />
        <Select id="videos-size" label="Rows per page" value={size} onChange={setSize}
          options={[["5", "5"], ["20", "20"], ["50", "50"], ["100", "100"]]} />
        {page.data ? <Freshness asOf={page.data.data_as_of} /> : null}
      </div>
      {page.error ? <ErrorBox error={page.error} retry={page.reload} /> : null}
      {!page.data && page.loading ? <Loading what="videos" /> : null}
      {page.data && page.data.items.length === 0 && cursors.length === 1 ? <Empty>No videos match.</Empty> : null}
      {page.data && page.data.items.length > 0 ? (
        <div class="table-wrap" aria-busy={!current}>
          <table class="data" data-testid="videos" data-current={String(current)}>
            <caption class="visually-hidden">Videos, page {cursors.length}</caption>
            <thead><tr>
              <th scope="col">Video</th><th scope="col">Creator</th>{header("recent", sort.metric)}
              {METRICS.map((m) => header("total", m))}
              {METRICS.map((m) => header("growth", m))}
            </tr></thead>
            <tbody>
              {page.data.items.map((v) => (
                <tr key={v.id} data-video-id={v.id}>
                  <th scope="row">{shared ? <a href={v.url} rel="noopener noreferrer" target="_blank">
                    {v.caption?.slice(0, 60) || v.external_video_id}</a>
                    : <a href={href.video(v.id)}>{v.caption?.slice(0, 60) || v.external_video_id}</a>}
                    <small class="platform">{v.platform}{v.tracking_state !== "active" ? ` · ${v.tracking_state}` : ""}</small></th>
                  <td>{!v.blogger ? "—" : shared ? `@${v.blogger.username ?? "?"}`
                    : <a href={href.creator(v.blogger.id)}>@{v.blogger.username ?? "?"}</a>}</td>
                  <td class="n"><time dateTime={v.tracking_started_at} title={when(v.tracking_started_at)}>
                    {ago(v.tracking_started_at)}</time></td>
                  {METRICS.map((m) => <td class="n" key={m}><Num value={v.totals[m]} /></td>)}
                  {METRICS.map((m) => <td class="n" key={m}><Growth value={v.increments[m]} total={v.totals[m]} /></td>)}
                </tr>
              ))}
            </tbody>
          </table>
        </div>) : null}
      <nav class="pager" aria-label="Videos pages">
        <button type="button" disabled={cursors.length === 1 || page.loading}
          onClick={() => setCursors(cursors.slice(0, -1))}>Previous page</button>
        <span>Page {cursors.length}</span>
        <button type="button" disabled={!page.data?.next_cursor || page.loading}
          onClick={() => setCursors([...cursors, page.data!.next_cursor])}>Next page</button>
      </nav>
    </div>
  );
}
