import { useState } from "preact/hooks";
import { get } from "./api";
import { Empty, ErrorBox, Freshness, Growth, Loading, Num, Page, Select, useLoad } from "./components";
import { href } from "./router";
import type { BloggerDetail, BloggerPage, BloggerSummary, Period } from "./types";
import { METRICS } from "./types";
import { VideosTable } from "./videos-table";

const PERIODS: [Period, string][] = [["1d", "1 day"], ["7d", "7 days"], ["30d", "30 days"]];

function name(b: BloggerSummary): string {
  return b.display_name ? `${b.display_name} (@${b.username ?? b.platform_user_id})` : `@${b.username ?? b.platform_user_id}`;
}

export function CreatorsScreen() {
  const [period, setPeriod] = useState<Period>("7d");
  const [platform, setPlatform] = useState("");
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(() => get<BloggerPage>("/bloggers", { period, platform, limit: 50, cursor }),
    [period, platform, cursor]);
  const change = <T,>(set: (v: T) => void) => (v: T) => { setCursors([null]); set(v); };
  return (
    <Page title="Creators" actions={<>
      <Select id="creators-period" label="Growth period" value={period} options={PERIODS} onChange={change(setPeriod)} />
      <Select id="creators-platform" label="Platform" value={platform} onChange={change(setPlatform)}
        options={[["", "All platforms"], ["tiktok", "TikTok"], ["instagram", "Instagram"], ["youtube", "YouTube"]]} />
    </>}>
      {page.error ? <ErrorBox error={page.error} retry={page.reload} /> : null}
      {!page.data ? (page.loading ? <Loading what="creators" /> : null) : page.data.items.length === 0
        ? <Empty>No creators yet: they appear with their first tracked video.</Empty> : <>
          <p class="meta"><Freshness asOf={page.data.data_as_of} /></p>
          <div class="table-wrap">
            <table class="data">
              <caption class="visually-hidden">Creators with their videos' totals and growth</caption>
              <thead><tr><th scope="col">Creator</th><th scope="col">Platform</th><th scope="col" class="n">Videos</th>
                {METRICS.map((m) => <th scope="col" class="n" key={m}>{m}</th>)}
                {METRICS.map((m) => <th scope="col" class="n" key={`g${m}`}>+{period} {m}</th>)}</tr></thead>
              <tbody>{page.data.items.map((b) => (
                <tr key={b.id}><th scope="row"><a href={href.creator(b.id)}>{name(b)}</a></th><td>{b.platform}</td>
                  <td class="n">{b.video_count}</td>
                  {METRICS.map((m) => <td class="n" key={m}><Num value={b.totals[m]} /></td>)}
                  {METRICS.map((m) => <td class="n" key={`g${m}`}><Growth value={b.increments[m]} total={b.totals[m]} /></td>)}
                </tr>))}</tbody>
            </table>
          </div>
          <nav class="pager" aria-label="Creators pages">
            <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>Previous page</button>
            <span>Page {cursors.length}</span>
            <button type="button" disabled={!page.data.next_cursor}
              onClick={() => setCursors([...cursors, page.data!.next_cursor])}>Next page</button>
          </nav>
        </>}
    </Page>
  );
}

export function CreatorScreen({ id }: { id: string }) {
  const creator = useLoad(() => get<BloggerDetail>(`/bloggers/${id}`, { period: "7d" }), [id]);
  if (creator.error) return <Page title="Creator"><ErrorBox error={creator.error} retry={creator.reload} /></Page>;
  if (!creator.data) return <Page title="Creator"><Loading what="the creator" /></Page>;
  const b = creator.data;
  return (
    <Page title={name(b)}>
      <p class="meta">{b.platform} · {b.video_count} videos
        {b.profile_url ? <> · <a href={b.profile_url} rel="noopener noreferrer" target="_blank">profile ↗</a></> : null}
        {" · "}<Freshness asOf={b.data_as_of} /></p>
      <div class="cards">{METRICS.map((m) => (
        <div class="card" key={m}><h2>{m}</h2><p class="big"><Num value={b.totals[m]} /></p>
          <p>last 7 days <Growth value={b.increments[m]} total={b.totals[m]} /></p></div>))}</div>
      <h2>Videos</h2>
      <VideosTable query={{ blogger_id: id }} />
    </Page>
  );
}
