// Numbers for people (12.3K, +4.1%), with the exact value for a title attribute.
const compactFormat = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
const exactFormat = new Intl.NumberFormat("en");

export const DASH = "—";

export function compact(value: number | null | undefined): string {
  return value === null || value === undefined ? DASH : compactFormat.format(value);
}

export function exact(value: number | null | undefined): string {
  return value === null || value === undefined ? "not measured" : exactFormat.format(value);
}

export function signed(value: number | null | undefined): string {
  if (value === null || value === undefined) return DASH;
  return (value > 0 ? "+" : value < 0 ? "−" : "±") + compactFormat.format(Math.abs(value));
}

/** Growth relative to where the counter stood before it (total minus growth): "+4.1%". */
export function growthPercent(growth: number | null | undefined, total: number | null | undefined): string | null {
  if (growth === null || growth === undefined || total === null || total === undefined) return null;
  const before = total - growth;
  if (before <= 0) return null;
  const pct = (growth / before) * 100;
  const digits = Math.abs(pct) < 10 ? 1 : 0;
  return `${pct >= 0 ? "+" : "−"}${Math.abs(pct).toFixed(digits)}%`;
}

export function ago(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return "never";
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

export function day(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 10) : DASH;
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 16) + " UTC" : DASH;
}

export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function daysBefore(days: number, from: Date = new Date()): string {
  return isoDay(new Date(from.getTime() - days * 86_400_000));
}
