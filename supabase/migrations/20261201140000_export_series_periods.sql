-- campaign_figures() (20261201130000) calls series_periods() for its series points; the export role executes
-- campaign_figures() through campaign_video_growth() but was never granted series_periods(). PostgreSQL 18 does
-- not reach that call when no series is asked for; PostgreSQL 15 (Supabase) checks it anyway: permission denied.
grant execute on function analytics.series_periods(date, date, text) to vidstats_export;
