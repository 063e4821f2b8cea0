// The workspace's settings: its budget (GET /workspace/budget, any member; PUT by owners, within the operator's
// maximum: 422 otherwise) and its Google Sheets export targets (owners and editors: /workspace/export-targets).
import { useState } from "preact/hooks";
import { del, get, post, put } from "./api";
import { Empty, ErrorBox, Loading, Page, useLoad } from "./components";
import { day, exact, when } from "./format";
import type { CampaignPage } from "./types";
import { useAccess } from "./workspace";

interface Cap { limit: number; used: number; set_by_owner: number | null; default: number; maximum: number }
interface Budget { tracked_videos: Cap; fetches_per_day: Cap & { resets_at: string } }
interface ExportTarget {
  id: string; spreadsheet_id: string; campaign_ids: string[] | null; include_all_videos: boolean; created_at: string;
}

function CapRow({ name, cap, note }: { name: string; cap: Cap; note?: string }) {
  const full = cap.limit > 0 ? Math.min(100, Math.round((cap.used / cap.limit) * 100)) : 100;
  return (
    <tr>
      <th scope="row">{name}{note ? <small class="platform">{note}</small> : null}</th>
      <td class="n">{exact(cap.used)}</td>
      <td class="n">{exact(cap.limit)}</td>
      <td><meter min={0} max={100} value={full} aria-label={`${name}: ${full}% used`} /> {full}%</td>
      <td class="n">{cap.set_by_owner === null ? "default" : exact(cap.set_by_owner)}</td>
      <td class="n">{exact(cap.default)} / {exact(cap.maximum)}</td>
    </tr>
  );
}

function capValue(text: string): number | null {
  return text.trim() === "" ? null : Number(text);
}

function BudgetEditor({ budget, saved }: { budget: Budget; saved: () => void }) {
  const [tracked, setTracked] = useState(budget.tracked_videos.set_by_owner?.toString() ?? "");
  const [fetches, setFetches] = useState(budget.fetches_per_day.set_by_owner?.toString() ?? "");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      await put("/workspace/budget", { max_tracked_videos: capValue(tracked), max_fetches_per_day: capValue(fetches) });
      setDone(true);
      saved();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="inline-form" onSubmit={submit} aria-labelledby="budget-edit-title">
      <h3 id="budget-edit-title">Change the caps (empty: the operator's default)</h3>
      <div class="controls">
        <label class="field" for="cap-tracked"><span>Tracked videos (max {exact(budget.tracked_videos.maximum)})</span>
          <input id="cap-tracked" type="number" min={0} step={1} value={tracked} placeholder={String(budget.tracked_videos.default)}
            onInput={(e) => setTracked((e.target as HTMLInputElement).value)} /></label>
        <label class="field" for="cap-fetches"><span>Fetches per day (max {exact(budget.fetches_per_day.maximum)})</span>
          <input id="cap-fetches" type="number" min={0} step={1} value={fetches} placeholder={String(budget.fetches_per_day.default)}
            onInput={(e) => setFetches((e.target as HTMLInputElement).value)} /></label>
        <button type="submit" disabled={busy}>{busy ? "Saving…" : "Save caps"}</button>
      </div>
      {error ? <ErrorBox error={error} /> : null}
      {done ? <p class="note" role="status">Caps saved.</p> : null}
    </form>
  );
}

function BudgetSection() {
  const { role } = useAccess();
  const budget = useLoad(() => get<Budget>("/workspace/budget"), []);
  const b = budget.data;
  return (
    <section aria-labelledby="budget-title">
      <h2 id="budget-title">Budget</h2>
      {budget.error ? <ErrorBox error={budget.error} retry={budget.reload} /> : null}
      {!b ? (budget.loading ? <Loading what="the budget" /> : null) : <>
        <div class="table-wrap">
          <table class="data" data-testid="budget">
            <caption>A command over a cap writes nothing and is refused (429). The daily count starts again
              {" "}{when(b.fetches_per_day.resets_at)}.</caption>
            <thead><tr><th scope="col">Cap</th><th scope="col" class="n">Used</th><th scope="col" class="n">Limit</th>
              <th scope="col">Use</th><th scope="col" class="n">Set by an owner</th>
              <th scope="col" class="n">Default / maximum</th></tr></thead>
            <tbody>
              <CapRow name="Tracked videos" cap={b.tracked_videos} note="videos tracked actively now" />
              <CapRow name="Fetches per day" cap={b.fetches_per_day} note="on-demand fetches today (UTC)" />
            </tbody>
          </table>
        </div>
        {role === "owner" ? <BudgetEditor budget={b} saved={budget.reload} /> : null}
      </>}
    </section>
  );
}

function AddTarget({ added }: { added: () => void }) {
  const [spreadsheet, setSpreadsheet] = useState("");
  const [campaigns, setCampaigns] = useState<string[]>([]);
  const [allVideos, setAllVideos] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const list = useLoad(() => get<CampaignPage>("/campaigns", { limit: 200 }), []);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // A spreadsheet URL is accepted too: its id is the part after /d/.
      const id = /\/d\/([^/]+)/.exec(spreadsheet)?.[1] ?? spreadsheet.trim();
      await post("/workspace/export-targets", { spreadsheet_id: id, include_all_videos: allVideos,
        campaign_ids: campaigns.length ? campaigns : null });
      setSpreadsheet("");
      setCampaigns([]);
      added();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="inline-form" onSubmit={submit} aria-labelledby="target-add-title">
      <h3 id="target-add-title">Add a spreadsheet</h3>
      <p class="meta">Share it with the export's Google service account as Editor first.</p>
      <div class="controls">
        <label class="field" for="target-spreadsheet"><span>Spreadsheet id or URL</span>
          <input id="target-spreadsheet" required value={spreadsheet}
            onInput={(e) => setSpreadsheet((e.target as HTMLInputElement).value)} /></label>
        <label class="field" for="target-campaigns"><span>Campaigns (none chosen: every campaign)</span>
          <select id="target-campaigns" multiple size={3}
            onChange={(e) => setCampaigns([...(e.target as HTMLSelectElement).selectedOptions].map((o) => o.value))}>
            {(list.data?.items ?? []).map((c) => <option key={c.id} value={c.id} selected={campaigns.includes(c.id)}>
              {c.name}</option>)}
          </select></label>
        <label class="check" for="target-all"><input id="target-all" type="checkbox" checked={allVideos}
          onChange={(e) => setAllVideos((e.target as HTMLInputElement).checked)} /> "All videos" worksheet</label>
        <button type="submit" disabled={busy || !spreadsheet.trim()}>Add spreadsheet</button>
      </div>
      {error ? <ErrorBox error={error} /> : null}
    </form>
  );
}

function TargetsSection() {
  const targets = useLoad(() => get<{ items: ExportTarget[] }>("/workspace/export-targets"), []);
  const names = useLoad(() => get<CampaignPage>("/campaigns", { limit: 200 }), []);
  const [error, setError] = useState<unknown>(null);
  const name = (id: string) => names.data?.items.find((c) => c.id === id)?.name ?? id;
  const remove = async (id: string) => {
    setError(null);
    try {
      await del(`/workspace/export-targets/${id}`);
      targets.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section aria-labelledby="targets-title">
      <h2 id="targets-title">Google Sheets export targets</h2>
      {targets.error ? <ErrorBox error={targets.error} retry={targets.reload} /> : null}
      {error ? <ErrorBox error={error} /> : null}
      {!targets.data ? (targets.loading ? <Loading what="the export targets" /> : null)
        : targets.data.items.length === 0 ? <Empty>No spreadsheets yet: the export writes nowhere for this
          workspace.</Empty> : (
        <div class="table-wrap">
          <table class="data" data-testid="export-targets">
            <caption class="visually-hidden">Spreadsheets the export keeps current</caption>
            <thead><tr><th scope="col">Spreadsheet</th><th scope="col">Campaigns</th><th scope="col">All videos</th>
              <th scope="col">Added</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>{targets.data.items.map((t) => (
              <tr key={t.id}>
                <th scope="row"><a href={`https://docs.google.com/spreadsheets/d/${t.spreadsheet_id}`}
                  rel="noopener noreferrer" target="_blank">{t.spreadsheet_id}</a></th>
                <td class="wrap">{t.campaign_ids ? t.campaign_ids.map(name).join(", ") : "every campaign"}</td>
                <td>{t.include_all_videos ? "yes" : "no"}</td>
                <td>{day(t.created_at)}</td>
                <td><button type="button" onClick={() => remove(t.id)}
                  aria-label={`Remove spreadsheet ${t.spreadsheet_id}`}>Remove</button></td>
              </tr>))}</tbody>
          </table>
        </div>)}
      <AddTarget added={targets.reload} />
    </section>
  );
}

export function SettingsScreen() {
  const { canEdit } = useAccess();
  return (
    <Page title="Workspace settings">
      <BudgetSection />
      {canEdit ? <TargetsSection /> : null}
    </Page>
  );
}
