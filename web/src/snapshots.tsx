// A video's raw snapshots (GET /videos/{id}/snapshots): each fetch's counters as stored, newest first; older
// pages are added below on request (the API's keyset cursor).
import { useEffect, useState } from "preact/hooks";
import { get } from "./api";
import { Empty, ErrorBox, Loading, Num } from "./components";
import { when } from "./format";
import type { VideoSnapshot, VideoSnapshotPage } from "./types";
import { METRICS } from "./types";

const PAGE = 30;  // a month of daily fetches

export function Snapshots({ videoId }: { videoId: string }) {
  const [rows, setRows] = useState<VideoSnapshot[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const load = async (cursor: string | null) => {
    setBusy(true);
    setError(null);
    try {
      const page = await get<VideoSnapshotPage>(`/videos/${videoId}/snapshots`, { limit: PAGE, cursor });
      setRows((shown) => [...(cursor ? shown ?? [] : []), ...page.items]);
      setNext(page.next_cursor);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    setRows(null);
    void load(null);
  }, [videoId]);
  return (
    <section aria-labelledby="snapshots-title">
      <h2 id="snapshots-title">Snapshots</h2>
      {error ? <ErrorBox error={error} retry={() => load(rows?.length ? next : null)} /> : null}
      {rows === null ? (busy ? <Loading what="the snapshots" /> : null) : rows.length === 0 ? <Empty>No snapshots
        yet: the video has not been fetched.</Empty> : (
        <div class="table-wrap">
          <table class="data" data-testid="snapshots">
            <caption>Every fetch's counters as stored, newest first (— : not reported)</caption>
            <thead><tr><th scope="col">Taken</th>{METRICS.map((m) => <th scope="col" class="n" key={m}>{m}</th>)}</tr></thead>
            <tbody>{rows.map((s) => (
              <tr key={s.id} data-snapshot-id={s.id}>
                <th scope="row">{when(s.taken_at)}</th>
                {METRICS.map((m) => <td class="n" key={m}><Num value={s[m]} />
                  {m === "views" && s.views_kind === "plays" ? <span class="meta"> (plays)</span> : null}</td>)}
              </tr>))}</tbody>
          </table>
        </div>)}
      {next ? <button type="button" disabled={busy} onClick={() => load(next)}>Older snapshots</button> : null}
    </section>
  );
}
