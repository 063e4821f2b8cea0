import { useState } from "preact/hooks";
import { del, get } from "./api";
import { Chart } from "./chart";
import { Empty, ErrorBox, Freshness, Growth, Loading, Num, Page, Select, useLoad } from "./components";
import { ago, exact, when } from "./format";
import { href } from "./router";
import { Snapshots } from "./snapshots";
import type { VideoDetail, VideoIncrements } from "./types";
import { METRICS } from "./types";
import { useAccess } from "./workspace";

function StopTracking({ video, stopped }: { video: VideoDetail; stopped: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const { canEdit } = useAccess();
  if (video.tracking.state !== "active" || !canEdit) return null;
  const stop = async () => {
    try {
      await del(`/videos/${video.id}/tracking`);
      setConfirming(false);
      stopped();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div class="actions">
      {confirming ? <>
        <span>Stop fetching this video? Its history is kept.</span>
        <button type="button" class="danger" onClick={stop}>Yes, stop tracking</button>
        <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
      </> : <button type="button" onClick={() => setConfirming(true)}>Stop tracking</button>}
      {error ? <ErrorBox error={error} /> : null}
    </div>
  );
}

export function VideoScreen({ id }: { id: string }) {
  const [granularity, setGranularity] = useState<"daily" | "weekly">("daily");
  const video = useLoad(() => get<VideoDetail>(`/videos/${id}`), [id]);
  const series = useLoad(() => get<VideoIncrements>(`/videos/${id}/increments`, { granularity }), [id, granularity]);
  if (video.error) return <Page title="Video"><ErrorBox error={video.error} retry={video.reload} /></Page>;
  if (!video.data) return <Page title="Video"><Loading what="the video" /></Page>;
  const v = video.data;
  const h = v.health;
  return (
    <Page title={v.caption?.slice(0, 80) || `${v.platform} video ${v.external_video_id}`}
      actions={<StopTracking video={v} stopped={video.reload} />}>
      <p class="meta">
        <a href={v.url} rel="noopener noreferrer" target="_blank">{v.platform} ↗</a>
        {v.blogger ? <> · <a href={href.creator(v.blogger.id)}>@{v.blogger.username}</a></> : null}
        {" · "}tracking: <strong data-testid="tracking-state">{v.tracking.state}</strong> · <Freshness asOf={v.data_as_of} />
      </p>
      {v.campaigns.length ? <p class="meta">Campaigns: {v.campaigns.map((c, i) => (
        <span key={c.campaign_id}>{i ? ", " : ""}<a href={href.campaign(c.campaign_id)}>{c.name}</a></span>))}</p> : null}
      <div class="table-wrap">
        <table class="data">
          <caption>Totals and growth{v.views_kind === "plays" ? " (views count plays)" : ""}</caption>
          <thead><tr><th scope="col">Metric</th><th scope="col" class="n">Total</th><th scope="col" class="n">+1d</th>
            <th scope="col" class="n">+7d</th><th scope="col" class="n">+30d</th></tr></thead>
          <tbody>{METRICS.map((m) => (
            <tr key={m}><th scope="row">{m}</th><td class="n"><Num value={v.totals[m]} /></td>
              <td class="n"><Growth value={v.growth_1d[m]} total={v.totals[m]} /></td>
              <td class="n"><Growth value={v.growth_7d[m]} total={v.totals[m]} /></td>
              <td class="n"><Growth value={v.growth_30d[m]} total={v.totals[m]} /></td></tr>))}
          </tbody>
        </table>
      </div>
      <section class={`health ${h.state}`} aria-labelledby="health-title">
        <h2 id="health-title">Fetch health: <span data-testid="health-state">{h.state}</span></h2>
        <p>Last successful fetch {ago(h.last_success_at)} ({when(h.last_success_at)}); last fetched {when(v.tracking.last_fetched_at)}.</p>
        {h.last_error ? <p>Last error ({h.last_error_class ?? "unknown"}, {when(h.last_error_at)}): {h.last_error}</p> : null}
        {h.consecutive_failures ? <p>{h.consecutive_failures} failed fetches on {h.failure_days} UTC days since the last success.</p> : null}
      </section>
      <div class="controls">
        <Select id="video-granularity" label="Series" value={granularity} onChange={setGranularity}
          options={[["daily", "Daily"], ["weekly", "Weekly"]]} />
      </div>
      {series.error ? <ErrorBox error={series.error} retry={series.reload} /> : null}
      {!series.data ? <Loading what="the series" /> : series.data.points.length === 0 ? <Empty>No snapshots in the last
        30 days.</Empty> : <>
        <div class="charts">{METRICS.map((m) => series.data!.points.every((p) => p[m] === null)
          ? <p key={m} class="state empty">{m}: not reported by {v.platform}.</p>
          : <Chart key={m} points={series.data!.points} metrics={[m]} height={160}
            label={`${m} growth per ${granularity === "daily" ? "day" : "week"}`} />)}</div>
        <div class="table-wrap">
          <table class="data">
            <caption>Snapshot count and growth per {granularity === "daily" ? "day" : "week"}</caption>
            <thead><tr><th scope="col">Period</th><th scope="col" class="n">Snapshots</th>
              {METRICS.map((m) => <th scope="col" class="n" key={m}>{m}</th>)}</tr></thead>
            <tbody>{series.data.points.slice().reverse().map((p) => (
              <tr key={p.period_start}><th scope="row">{p.period_start}{p.period_end !== p.period_start ? ` – ${p.period_end}` : ""}</th>
                <td class="n" title={exact(p.snapshots)}>{p.snapshots}</td>
                {METRICS.map((m) => <td class="n" key={m}><Growth value={p[m]} /></td>)}</tr>))}
            </tbody>
          </table>
        </div>
      </>}
      <Snapshots videoId={v.id} />
    </Page>
  );
}
