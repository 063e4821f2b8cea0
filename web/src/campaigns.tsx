import { useState } from "preact/hooks";
import { download, get, post } from "./api";
import { Chart } from "./chart";
import { Empty, ErrorBox, Freshness, Growth, Loading, Num, Page, Select, useLoad } from "./components";
import { day, daysBefore } from "./format";
import { href } from "./router";
import { VideosTable } from "./videos-table";
import { ShareLinks } from "./share-links";
import { useAccess } from "./workspace";
import type { BloggerPage, Campaign, CampaignAnalytics, CampaignPage, CampaignSummary, Metric } from "./types";
import { METRICS } from "./types";

export type Window = "campaign" | "7d" | "30d";
const WINDOWS: [Window, string][] = [["campaign", "Whole campaign"], ["7d", "Last 7 days"], ["30d", "Last 30 days"]];

/** The growth range of the chosen window: the whole campaign (the API's default), or the last N UTC days. */
export function windowRange(window: Window): { from?: string } {
  return window === "campaign" ? {} : { from: daysBefore(window === "7d" ? 6 : 29) };
}

function analytics(id: string, mode: string, window: Window, limit = 0): Promise<CampaignAnalytics> {
  return get<CampaignAnalytics>(`/campaigns/${id}/analytics`, { mode, limit, ...windowRange(window) });
}

function CampaignRow({ campaign: c }: { campaign: CampaignSummary }) {
  return (
    <tr>
      <th scope="row"><a href={href.campaign(c.id)}>{c.name}</a></th>
      <td>{day(c.starts_at)} – {c.ends_at ? day(c.ends_at) : "open"}</td>
      <td class="n">{c.video_count}</td>
      <td class="n"><Num value={c.totals.views} /></td>
      <td class="n"><Growth value={c.increments.views} total={c.totals.views} /></td>
      <td class="n"><Num value={c.totals.likes} /></td>
      <td class="n"><Growth value={c.increments.likes} total={c.totals.likes} /></td>
    </tr>
  );
}

export function CampaignsScreen() {
  const [window, setWindow] = useState<Window>("campaign");
  const [pages, setPages] = useState<(string | null)[]>([null]);
  // One request per page: the list carries each campaign's totals and its growth over the chosen window.
  const list = useLoad(async () => {
    const items: CampaignSummary[] = [];
    let next: string | null = null;
    for (const cursor of pages) {
      const page: CampaignPage = await get<CampaignPage>("/campaigns", { limit: 50, cursor, ...windowRange(window) });
      items.push(...page.items);
      next = page.next_cursor;
    }
    return { items, next };
  }, [pages.length, window]);
  return (
    <Page title="Campaigns" actions={<Select id="campaigns-window" label="Growth over" value={window}
      options={WINDOWS} onChange={setWindow} />}>
      {list.loading && !list.data ? <Loading what="campaigns" /> : null}
      {list.error ? <ErrorBox error={list.error} retry={list.reload} /> : null}
      {list.data && list.data.items.length === 0 ? (
        <Empty>No campaigns yet. Create one with <code>POST /campaigns</code>, then <a href={href.track()}>track
          its videos</a>.</Empty>) : null}
      {list.data && list.data.items.length > 0 ? (
        <div class="table-wrap">
          <table class="data">
            <caption class="visually-hidden">Campaigns with totals and growth</caption>
            <thead><tr><th scope="col">Campaign</th><th scope="col">Dates (UTC)</th><th scope="col" class="n">Videos</th>
              <th scope="col" class="n">Views</th><th scope="col" class="n">Views growth</th>
              <th scope="col" class="n">Likes</th><th scope="col" class="n">Likes growth</th></tr></thead>
            <tbody>{list.data.items.map((c) => <CampaignRow key={c.id} campaign={c} />)}</tbody>
          </table>
        </div>) : null}
      {list.data?.next ? (
        <button type="button" onClick={() => setPages([...pages, list.data!.next])}>More campaigns</button>) : null}
    </Page>
  );
}

export function MetricCard({ metric, data }: { metric: Metric; data: CampaignAnalytics }) {
  return (
    <div class="card" data-metric={metric}>
      <h2>{metric}</h2>
      <p class="big"><Num value={data.totals[metric]} /></p>
      <p>growth in campaign <Growth value={data.increments[metric]} total={data.totals[metric]} /></p>
    </div>
  );
}

export type AnalyticsSource = (mode: string, window: Window) => Promise<CampaignAnalytics>;

/** A campaign's figures (meta line, controls, a card per metric, the chart), from a member's route or a share
 * link's: the same body, so the same components. */
export function useFigures(source: AnalyticsSource, key: string) {
  const [window, setWindow] = useState<Window>("campaign");
  const [mode, setMode] = useState<"daily" | "weekly">("daily");
  const [metric, setMetric] = useState<Metric>("views");
  const data = useLoad(() => source(mode, window), [key, mode, window]);
  const a = data.data;
  const c = a?.campaign;
  const body = <>
    {data.error ? <ErrorBox error={data.error} retry={data.reload} /> : null}
    {!a || !c ? (data.loading ? <Loading what="the campaign" /> : null) : <>
      <p class="meta">
        {day(c.starts_at)} – {c.ends_at ? day(c.ends_at) : "open"} · {c.video_count} videos · <Freshness
          asOf={a.data_as_of} />{data.loading ? <span class="refreshing" role="status"> updating…</span> : null}
      </p>
      <div class="controls">
        <Select id="campaign-window" label="Growth over" value={window} options={WINDOWS} onChange={setWindow} />
        <Select id="campaign-mode" label="Chart" value={mode} options={[["daily", "Daily"], ["weekly", "Weekly"]]}
          onChange={setMode} />
        <Select id="campaign-metric" label="Metric" value={metric} options={METRICS.map((m) => [m, m])}
          onChange={setMetric} />
      </div>
      <p class="meta">Growth counted {a.date_from ?? "—"} to {a.date_to ?? "—"} (UTC)</p>
      <div class="cards">{METRICS.map((m) => <MetricCard key={m} metric={m} data={a} />)}</div>
      {a.series.length ? <Chart points={a.series} metrics={[metric]}
        label={`${metric} growth per ${mode === "daily" ? "day" : "week"}`} />
        : <Empty>No growth counted in this period yet.</Empty>}
    </>}
  </>;
  return { data, body };
}

function ExportActions({ id }: { id: string }) {
  const { canEdit } = useAccess();
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (what: () => Promise<string>) => {
    setBusy(true);
    setMessage(null);
    try {
      setMessage({ text: await what(), error: false });
    } catch (error) {
      setMessage({ text: error instanceof Error ? error.message : String(error), error: true });
    } finally {
      setBusy(false);
    }
  };
  const csv = () => run(async () => {
    const file = await download(`/campaigns/${id}/export.csv`);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(file.blob);
    link.download = file.name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    return `Downloaded ${file.name}`;
  });
  const sheets = () => run(async () => {
    const answer = await post<{ destination: string; message: string }>("/exports",
      { campaign_ids: [id], include_all_videos: false });
    return `Export started: ${answer.destination}`;
  });
  return (
    <div class="actions">
      <button type="button" onClick={csv} disabled={busy}>Download CSV</button>
      {canEdit ? <button type="button" onClick={sheets} disabled={busy}>Export to Sheets</button> : null}
      {message ? <p class={message.error ? "note error" : "note"} role="status">{message.text}</p> : null}
    </div>
  );
}

export function CampaignScreen({ id }: { id: string }) {
  const { canEdit } = useAccess();
  const [platform, setPlatform] = useState("");
  const [blogger, setBlogger] = useState("");
  const [wantCreators, setWantCreators] = useState(false);
  const figures = useFigures((mode, window) => analytics(id, mode, window), id);
  // The creator filter's choices are read when it is first used, not with the screen.
  const creators = useLoad(() => (wantCreators ? get<BloggerPage>("/bloggers", { limit: 200 }) : Promise.resolve(null)),
    [wantCreators]);
  const c = figures.data.data?.campaign;
  // The videos table loads beside the figures, not after them.
  return (
    <Page title={c?.name ?? "Campaign"} actions={<ExportActions id={id} />}>
      {figures.body}
      {c && canEdit ? <ShareLinks campaign={c} /> : null}
      <h2>Videos</h2>
      <div class="controls" onFocusIn={() => setWantCreators(true)} onPointerDown={() => setWantCreators(true)}>
        <Select id="filter-platform" label="Platform" value={platform} onChange={setPlatform}
          options={[["", "All platforms"], ["tiktok", "TikTok"], ["instagram", "Instagram"], ["youtube", "YouTube"]]} />
        <Select id="filter-creator" label="Creator" value={blogger} onChange={setBlogger}
          options={[["", creators.loading && wantCreators ? "All creators (loading…)" : "All creators"],
            ...(creators.data?.items ?? []).map(
              (b): [string, string] => [b.id, `@${b.username ?? b.platform_user_id} (${b.platform})`])]} />
      </div>
      <VideosTable query={{ campaign_id: id, platform, blogger_id: blogger }} />
    </Page>
  );
}
