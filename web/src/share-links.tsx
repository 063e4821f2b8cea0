// A campaign's read-only share links (owners and editors): create (optional expiry), copy the client's link
// (this page's /#/shared/<token>, which reads only GET /shared/{token}...), list with state, revoke.
import { useState } from "preact/hooks";
import { del, get, post } from "./api";
import { Empty, ErrorBox, Loading, useLoad } from "./components";
import { when } from "./format";
import { href } from "./router";
import type { Campaign } from "./types";

interface ShareLink {
  id: string; campaign_id: string; state: "active" | "expired" | "revoked"; created_at: string;
  created_by: string | null; expires_at: string | null; revoked_at: string | null;
}
interface ShareLinkCreated extends ShareLink { token: string; path: string }

/** The client's link: the web app's shared view of the token (the API's `path` is its JSON route). */
export function clientLink(token: string): string {
  return `${location.origin}/${href.shared(token)}`;
}

/** The end of the chosen UTC day, as the API's instant. */
function endOfDay(dayText: string): string {
  return new Date(Date.parse(`${dayText}T00:00:00Z`) + 86_400_000 - 1000).toISOString().replace(/\.\d+Z$/, "Z");
}

function NewLink({ link }: { link: string }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      setCopied("Copied to the clipboard.");
    } catch {
      (document.getElementById("share-new-link") as HTMLInputElement | null)?.select();
      setCopied("The browser refused the clipboard: the link is selected, copy it with Ctrl+C / ⌘C.");
    }
  };
  return (
    <div class="new-link" data-testid="new-share-link">
      <label class="field" for="share-new-link"><span>The client's link (shown this once: copy it now)</span>
        <input id="share-new-link" readOnly value={link} onFocus={(e) => (e.target as HTMLInputElement).select()} />
      </label>
      <button type="button" onClick={copy}>Copy link</button>
      {copied ? <p class="note" role="status">{copied}</p> : null}
    </div>
  );
}

export function ShareLinks({ campaign }: { campaign: Campaign }) {
  const links = useLoad(() => get<{ items: ShareLink[] }>(`/campaigns/${campaign.id}/share-links`), [campaign.id]);
  const [expires, setExpires] = useState("");
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const act = async (what: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await what();
      links.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const create = (event: Event) => {
    event.preventDefault();
    act(async () => {
      const answer = await post<ShareLinkCreated>(`/campaigns/${campaign.id}/share-links`,
        expires ? { expires_at: endOfDay(expires) } : {});
      setCreated(clientLink(answer.token));
    });
  };
  const revoke = (id: string) => act(async () => {
    await del(`/campaigns/${campaign.id}/share-links/${id}`);
  });
  return (
    <section class="share-links" aria-labelledby="share-title">
      <h2 id="share-title">Share links</h2>
      <p class="meta">A read-only page of this campaign's figures and videos for someone without an account.</p>
      <form class="controls" onSubmit={create}>
        <label class="field" for="share-expires"><span>Works until (UTC day, optional)</span>
          <input id="share-expires" type="date" value={expires}
            onInput={(e) => setExpires((e.target as HTMLInputElement).value)} /></label>
        <button type="submit" disabled={busy}>Create share link</button>
      </form>
      {created ? <NewLink link={created} /> : null}
      {error ? <ErrorBox error={error} /> : null}
      {links.error ? <ErrorBox error={links.error} retry={links.reload} /> : null}
      {!links.data ? (links.loading ? <Loading what="the share links" /> : null)
        : links.data.items.length === 0 ? <Empty>No share links yet.</Empty> : (
        <div class="table-wrap">
          <table class="data" data-testid="share-links">
            <caption class="visually-hidden">This campaign's share links</caption>
            <thead><tr><th scope="col">Created</th><th scope="col">State</th><th scope="col">Expires</th>
              <th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>{links.data.items.map((l) => (
              <tr key={l.id} data-link-id={l.id} data-state={l.state}>
                <th scope="row">{when(l.created_at)}</th>
                <td><span class={`badge ${l.state === "active" ? "fresh" : "stale"}`}>{l.state}</span>
                  {l.revoked_at ? ` ${when(l.revoked_at)}` : ""}</td>
                <td>{l.expires_at ? when(l.expires_at) : "never"}</td>
                <td>{l.state === "active" ? <button type="button" class="danger" disabled={busy}
                  onClick={() => revoke(l.id)} aria-label={`Revoke the link created ${when(l.created_at)}`}>
                  Revoke</button> : null}</td>
              </tr>))}</tbody>
          </table>
        </div>)}
    </section>
  );
}
