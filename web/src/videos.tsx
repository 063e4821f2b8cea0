// GET /videos as a screen: every video the workspace tracks, found by a search (caption or creator) and narrowed
// by platform and state, in the videos table (sorted by any column, newest first included).
import { useState } from "preact/hooks";
import { Page, Select } from "./components";
import type { VideoFilters } from "./videos-table";
import { VideosTable } from "./videos-table";

type Shown = "" | "active" | "failing" | "stopped" | "gone";

// What "Show" asks the API for: the workspace's tracking state, or the fetches' health.
const SHOWN: Record<Shown, VideoFilters> = {
  "": {}, active: { tracking_state: "active" }, failing: { health: "failing" }, stopped: { tracking_state: "stopped" },
  gone: { tracking_state: "gone" },
};

export function VideosScreen() {
  const [text, setText] = useState("");
  const [q, setQ] = useState("");
  const [platform, setPlatform] = useState("");
  const [shown, setShown] = useState<Shown>("");
  return (
    <Page title="Videos">
      <form role="search" class="controls" aria-label="Videos"
        onSubmit={(e) => { e.preventDefault(); setQ(text.trim()); }}>
        <label class="field search" for="videos-search">
          <span>Search captions and creators</span>
          <input id="videos-search" type="search" value={text} maxLength={200}
            onInput={(e) => { const value = (e.target as HTMLInputElement).value; setText(value); if (!value) setQ(""); }} />
        </label>
        <button type="submit">Search</button>
        <Select id="videos-platform" label="Platform" value={platform} onChange={setPlatform}
          options={[["", "All platforms"], ["tiktok", "TikTok"], ["instagram", "Instagram"], ["youtube", "YouTube"]]} />
        <Select<Shown> id="videos-shown" label="Show" value={shown} onChange={setShown}
          options={[["", "All videos"], ["active", "Tracked"], ["failing", "Failing fetches"],
            ["stopped", "Stopped"], ["gone", "Gone from the platform"]]} />
      </form>
      <VideosTable query={{ q, platform, ...SHOWN[shown] }} />
    </Page>
  );
}
