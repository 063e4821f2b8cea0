// The API's shapes the screens read (see /openapi.json).
export const METRICS = ["views", "likes", "comments", "reposts", "saves"] as const;
export type Metric = (typeof METRICS)[number];
export type Counters = Record<Metric, number | null>;
export type Period = "1d" | "7d" | "30d";

export interface BloggerRef { id: string; username: string | null; display_name?: string | null }
export interface VideoRow {
  id: string; platform: string; external_video_id: string; url: string; caption: string | null;
  published_at: string | null; blogger: BloggerRef | null; tracking_state: string; tracking_started_at: string;
  totals: Counters; views_kind: string | null; stats_at: string | null; increments: Counters;
}
export interface PeriodInfo { days: number; date_from: string; date_to: string }
export interface VideoPage {
  items: VideoRow[]; next_cursor: string | null; sort: string; metric: Metric; period: PeriodInfo;
  data_as_of: string | null;
}
export interface Campaign {
  id: string; name: string; starts_at: string; ends_at: string | null; created_at: string; video_count: number;
}
/** A campaign of the list with its totals and its growth over the requested range (as its analytics). */
export interface CampaignSummary extends Campaign {
  date_from: string | null; date_to: string | null; totals: Counters; increments: Counters;
}
export interface CampaignPage { items: CampaignSummary[]; next_cursor: string | null }
export interface SeriesPoint extends Counters { period_start: string; period_end: string; snapshots: number }
export interface CampaignAnalytics {
  campaign: Campaign; mode: string; date_from: string | null; date_to: string | null; counting_rule: string;
  totals: Counters; increments: Counters; series: SeriesPoint[]; data_as_of: string | null;
}
export interface FetchHealth {
  state: string; last_success_at: string | null; last_error_class: string | null; last_error: string | null;
  last_error_at: string | null; consecutive_failures: number; failure_days: number;
}
export interface TrackingInfo {
  state: string; started_at: string; stopped_at: string | null; last_fetched_at: string | null;
  last_error: string | null; last_error_at: string | null;
}
export interface VideoDetail {
  id: string; platform: string; external_video_id: string; url: string; caption: string | null;
  published_at: string | null; blogger: BloggerRef | null; tracking: TrackingInfo; health: FetchHealth;
  totals: Counters; views_kind: string | null; stats_at: string | null; growth_1d: Counters; growth_7d: Counters;
  growth_30d: Counters; campaigns: { campaign_id: string; name: string; added_at: string }[];
  data_as_of: string | null;
}
export interface VideoIncrements {
  video_id: string; granularity: string; date_from: string; date_to: string; points: SeriesPoint[];
  data_as_of: string | null;
}
export interface BloggerSummary {
  id: string; platform: string; platform_user_id: string; username: string | null; display_name: string | null;
  profile_url: string | null; created_at: string; video_count: number; totals: Counters; increments: Counters;
}
export interface BloggerPage { items: BloggerSummary[]; next_cursor: string | null; period: PeriodInfo; data_as_of: string | null }
export interface BloggerDetail extends BloggerSummary { period: PeriodInfo; videos: VideoRow[]; data_as_of: string | null }
export interface TrackedVideo {
  id: string; platform: string; external_video_id: string; url: string; tracking_state: string; created: boolean;
  fetch_enqueued: boolean;
}
export interface PageViewsReport {
  granularity: string; date_from: string; date_to: string; top: { rank: number; name: string; views: number }[] | null;
  rows: { name: string; date: string; hour: number | null; views: number }[]; truncated: boolean;
  data_as_of: string | null;
}
export interface VideoSnapshot extends Counters { id: number; taken_at: string; views_kind: "views" | "plays" }
export interface VideoSnapshotPage { video_id: string; items: VideoSnapshot[]; next_cursor: string | null }
