-- A campaign's figures from one pass over its counted days. The analytics route read
-- analytics.campaign_video_days() twice (per-video growth, then the series), and each read probes row-level
-- security for every daily row; campaign_figures() reads them once (a materialized CTE) and sums them three
-- ways. campaign_video_growth() and campaign_series() become projections of it, so every reader (API, share
-- links, export) still sums the one definition, campaign_video_days(), and no figure changes.
--
-- Rows, by kind:
--   'campaign': exactly one, the campaign's growth over [p_from, p_to] (the sum of every counted day; NULL
--               metrics: nothing measured), what GET /campaigns and GET /campaigns/{id}/analytics call increments;
--   'video':    when p_videos, one per campaign video, as campaign_video_growth() always returned;
--   'point':    when p_bucket is 'day' or 'week', one per point of the series, as campaign_series() returned.
create function analytics.campaign_figures(p_campaign_id uuid, p_from date, p_to date, p_bucket text,
                                           p_videos boolean)
returns table (
    kind text, video_id uuid, counted_from date, counted_to date, period_start date, period_end date,
    views bigint, likes bigint, comments bigint, reposts bigint, saves bigint, snapshots bigint
)
language sql
stable
set search_path = ''
as $$
    with days as materialized (  -- the campaign's days, read once
        select * from analytics.campaign_video_days(p_campaign_id, p_from, p_to)
    ), per_video as (
        select x.video_id, sum(x.views)::bigint as views, sum(x.likes)::bigint as likes,
               sum(x.comments)::bigint as comments, sum(x.reposts)::bigint as reposts, sum(x.saves)::bigint as saves,
               sum(x.snapshots)::bigint as snapshots
          from days x
         where p_videos
         group by x.video_id
    ), per_period as (  -- each counted day falls in the point starting on its day, or on its week's first day
        select case when p_bucket = 'week' then greatest(date_trunc('week', d.date)::date, p_from) else d.date end
                   as period_start,
               sum(d.views)::bigint as views, sum(d.likes)::bigint as likes, sum(d.comments)::bigint as comments,
               sum(d.reposts)::bigint as reposts, sum(d.saves)::bigint as saves, sum(d.snapshots)::bigint as snapshots
          from days d
         where p_bucket is not null
         group by 1
    )
    select 'campaign', null::uuid, null::date, null::date, null::date, null::date,
           sum(d.views)::bigint, sum(d.likes)::bigint, sum(d.comments)::bigint, sum(d.reposts)::bigint,
           sum(d.saves)::bigint, coalesce(sum(d.snapshots), 0)::bigint
      from days d
    union all
    select 'video', b.video_id,
           case when r.first_day <= r.last_day then r.first_day end,
           case when r.first_day <= r.last_day then r.last_day end,
           null, null, g.views, g.likes, g.comments, g.reposts, g.saves, coalesce(g.snapshots, 0)
      from analytics.campaign_video_bounds b
     cross join lateral (select greatest(b.entry_day, p_from) as first_day, least(b.last_day, p_to) as last_day) r
      left join per_video g on g.video_id = b.video_id
     where p_videos and b.campaign_id = p_campaign_id
    union all
    select 'point', null, null, null, p.period_start, p.period_end, s.views, s.likes, s.comments, s.reposts,
           s.saves, coalesce(s.snapshots, 0)
      from analytics.series_periods(p_from, p_to, p_bucket) p
      left join per_period s on s.period_start = p.period_start
     where p_bucket is not null
$$;
comment on function analytics.campaign_figures(uuid, date, date, text, boolean) is
    'A campaign''s growth, per-video growth and series over [p_from, p_to] from one read of campaign_video_days().';

-- The two former readers, now projections of campaign_figures() (same signatures, results and grants).
create or replace function analytics.campaign_video_growth(p_campaign_id uuid, p_from date, p_to date)
returns table (
    video_id uuid, counted_from date, counted_to date, views bigint, likes bigint, comments bigint,
    reposts bigint, saves bigint, snapshots bigint
)
language sql
stable
set search_path = ''
as $$
    select f.video_id, f.counted_from, f.counted_to, f.views, f.likes, f.comments, f.reposts, f.saves, f.snapshots
      from analytics.campaign_figures(p_campaign_id, p_from, p_to, null, true) f
     where f.kind = 'video'
$$;

create or replace function analytics.campaign_series(p_campaign_id uuid, p_from date, p_to date, p_bucket text)
returns table (
    period_start date, period_end date, views bigint, likes bigint, comments bigint, reposts bigint,
    saves bigint, snapshots bigint
)
language sql
stable
set search_path = ''
as $$
    select f.period_start, f.period_end, f.views, f.likes, f.comments, f.reposts, f.saves, f.snapshots
      from analytics.campaign_figures(p_campaign_id, p_from, p_to, p_bucket, false) f
     where f.kind = 'point'
     order by f.period_start
$$;

revoke execute on function analytics.campaign_figures(uuid, date, date, text, boolean) from public;
grant execute on function analytics.campaign_figures(uuid, date, date, text, boolean)
    to vidstats_reader, vidstats_export, vidstats_share;
