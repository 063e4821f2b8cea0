import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";
import { ago, compact, exact, growthPercent, signed, when } from "./format";

export function Num({ value }: { value: number | null | undefined }) {
  return <span class="num" title={exact(value)}>{compact(value)}</span>;
}

export function Growth({ value, total }: { value: number | null | undefined; total?: number | null }) {
  const pct = total === undefined ? null : growthPercent(value, total);
  const sign = value === null || value === undefined ? "" : value > 0 ? "up" : value < 0 ? "down" : "";
  const title = value === null || value === undefined ? "not measured" : `${value > 0 ? "+" : ""}${exact(value)}`;
  return (
    <span class={`num growth ${sign}`} title={pct ? `${title} (${pct})` : title}>
      {signed(value)}{pct ? <small> {pct}</small> : null}
    </span>
  );
}

const STALE_AFTER_MS = 30 * 60 * 1000;

/** "data as of 4 min ago", from the answer's data_as_of; stale (a warning) past 30 minutes. */
export function Freshness({ asOf }: { asOf: string | null | undefined }) {
  const stale = !asOf || Date.now() - Date.parse(asOf) > STALE_AFTER_MS;
  return (
    <span class={`badge ${stale ? "stale" : "fresh"}`} title={asOf ? `Data as of ${when(asOf)}` : "No data yet"}
      data-testid="freshness">
      {asOf ? `data as of ${ago(asOf)}` : "no data yet"}{stale ? " · stale" : ""}
    </span>
  );
}

export function Loading({ what }: { what: string }) {
  return <p class="state loading" role="status" aria-live="polite">Loading {what}…</p>;
}

export function ErrorBox({ error, retry }: { error: unknown; retry?: () => void }) {
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div class="state error" role="alert">
      <p>{error instanceof ApiError && error.status === 0 ? "The API cannot be reached." : message}</p>
      {retry ? <button type="button" onClick={retry}>Try again</button> : null}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="state empty">{children}</p>;
}

export interface Load<T> { data: T | null; error: unknown; loading: boolean; reload: () => void }

/** Loads `fetcher()` now and whenever `deps` change; the latest answer wins. */
export function useLoad<T>(fetcher: () => Promise<T>, deps: unknown[]): Load<T> {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>(
    { data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const call = ++latest.current;
    setState((s) => ({ data: s.data, error: null, loading: true }));
    fetcher().then(
      (data) => { if (call === latest.current) setState({ data, error: null, loading: false }); },
      (error) => { if (call === latest.current) setState({ data: null, error, loading: false }); },
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function Select<V extends string>({ label, value, options, onChange, id }: {
  label: string; value: V; options: [V, string][]; onChange: (value: V) => void; id: string;
}) {
  return (
    <label class="field" for={id}>
      <span>{label}</span>
      <select id={id} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value as V)}>
        {options.map(([v, text]) => <option key={v} value={v}>{text}</option>)}
      </select>
    </label>
  );
}

export function Page({ title, actions, children }: { title: ComponentChildren; actions?: ComponentChildren;
  children: ComponentChildren }) {
  return (
    <section class="page">
      <header class="page-head">
        <h1>{title}</h1>
        {actions ? <div class="actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}
