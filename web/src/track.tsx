import { useState } from "preact/hooks";
import { ApiError, get, post } from "./api";
import { ErrorBox, Page, useLoad } from "./components";
import { href } from "./router";
import type { CampaignPage, TrackedVideo } from "./types";

interface Outcome { url: string; state: "accepted" | "already tracked" | "rejected"; detail: string; videoId?: string }

/** Tracks the URLs; the API takes a batch all or nothing, so URLs it rejects are reported and the rest sent again. */
export async function trackUrls(urls: string[], campaignId: string | null): Promise<Outcome[]> {
  const rejected = new Map<string, string>();
  let pending = urls;
  while (pending.length) {
    try {
      const answer = await post<{ videos: TrackedVideo[] }>("/videos", { urls: pending, campaign_id: campaignId });
      return urls.map((url) => {
        if (rejected.has(url)) return { url, state: "rejected", detail: rejected.get(url)! };
        const video = answer.videos[pending.indexOf(url)];
        return video.created
          ? { url, state: "accepted", detail: video.fetch_enqueued ? "first fetch queued" : "tracked", videoId: video.id }
          : { url, state: "already tracked", detail: `tracking ${video.tracking_state}`, videoId: video.id };
      });
    } catch (error) {
      const byIndex = error instanceof ApiError
        ? error.problems.filter((p) => /^body\.urls\.\d+/.test(p.field)) : [];
      if (!byIndex.length) throw error;
      for (const problem of byIndex) {
        rejected.set(pending[Number(problem.field.split(".")[2])], problem.message);
      }
      pending = pending.filter((url) => !rejected.has(url));
    }
  }
  return urls.map((url) => ({ url, state: "rejected", detail: rejected.get(url) ?? "rejected" }));
}

export function TrackScreen() {
  const [text, setText] = useState("");
  const [campaign, setCampaign] = useState("");
  const [busy, setBusy] = useState(false);
  const [outcomes, setOutcomes] = useState<Outcome[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const campaigns = useLoad(() => get<CampaignPage>("/campaigns", { limit: 200 }), []);
  const submit = async (event: Event) => {
    event.preventDefault();
    const urls = [...new Set(text.split(/\s+/).map((u) => u.trim()).filter(Boolean))];
    if (!urls.length) return;
    setBusy(true);
    setError(null);
    try {
      setOutcomes(await trackUrls(urls, campaign || null));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Page title="Track videos">
      <form class="track" onSubmit={submit}>
        <label for="track-urls">Video URLs (TikTok, Instagram, YouTube), one per line</label>
        <textarea id="track-urls" rows={6} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
          placeholder="https://www.tiktok.com/@creator/video/1234567890" />
        <label class="field" for="track-campaign"><span>Add to campaign (optional)</span>
          <select id="track-campaign" value={campaign} onChange={(e) => setCampaign((e.target as HTMLSelectElement).value)}>
            <option value="">No campaign</option>
            {(campaigns.data?.items ?? []).map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
          </select>
        </label>
        <button type="submit" disabled={busy}>{busy ? "Tracking…" : "Track"}</button>
      </form>
      {error ? <ErrorBox error={error} /> : null}
      {outcomes ? (
        <div class="table-wrap" role="status">
          <table class="data" data-testid="track-results">
            <caption>Results: {outcomes.filter((o) => o.state !== "rejected").length} of {outcomes.length} tracked. New
              videos get their counters within a minute and appear in the lists after the next refresh (every 5 minutes).</caption>
            <thead><tr><th scope="col">URL</th><th scope="col">Result</th><th scope="col">Detail</th></tr></thead>
            <tbody>{outcomes.map((o) => (
              <tr key={o.url} class={o.state === "rejected" ? "rejected" : ""}>
                <th scope="row">{o.videoId ? <a href={href.video(o.videoId)}>{o.url}</a> : o.url}</th>
                <td>{o.state}</td><td>{o.detail}</td></tr>))}</tbody>
          </table>
        </div>) : null}
    </Page>
  );
}
