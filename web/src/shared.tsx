// The page a share link opens (/#/shared/<token>): no sign-in, read-only, and it reads only the link's own
// routes (GET /shared/{token} and /shared/{token}/videos, sent with no credentials). A revoked, expired or
// unknown token answers 404: the page says the link no longer works.
import { useEffect } from "preact/hooks";
import { ApiError, get } from "./api";
import { useFigures, windowRange } from "./campaigns";
import type { CampaignAnalytics } from "./types";
import { VideosTable } from "./videos-table";

export function SharedScreen({ token }: { token: string }) {
  const path = `/shared/${encodeURIComponent(token)}`;
  const figures = useFigures((mode, window) => get<CampaignAnalytics>(path, { mode, limit: 0, ...windowRange(window) }),
    token);
  const gone = figures.data.error instanceof ApiError && figures.data.error.status === 404;
  const campaign = figures.data.data?.campaign;
  useEffect(() => {
    document.title = campaign ? `${campaign.name} · vidstats` : "Shared campaign · vidstats";
    return () => { document.title = "vidstats"; };
  }, [campaign?.name]);
  return (
    <>
      <header class="top"><span class="brand">vidstats</span><span class="meta">Shared campaign · read-only</span></header>
      <main id="main" tabIndex={-1}>
        {gone ? (
          <section class="page" data-testid="link-gone">
            <h1>This link no longer works</h1>
            <p class="state">The campaign's owner revoked it, it expired, or it was mistyped. Ask them for a new
              link.</p>
          </section>) : (
          <section class="page">
            <header class="page-head"><h1>{campaign?.name ?? "Shared campaign"}</h1></header>
            {figures.body}
            {campaign ? <><h2>Videos</h2><VideosTable query={{}} shared={token} /></> : null}
          </section>)}
      </main>
    </>
  );
}
