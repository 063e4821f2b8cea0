-- Numbers users can trust: NULL means unknown everywhere, views of different kinds never subtract, and one
-- definition of a campaign's growth, exact at snapshot level, that every reader (API, export) uses.
--
-- The contribution of a snapshot s to metric m (the unit every increment, growth and series sums):
--   * NULL when s.m is NULL (the platform did not report it: unknown, not 0);
--   * 0 when no earlier snapshot of the video has a non-NULL m of the same kind (its first observation);
--   * otherwise s.m minus the latest earlier non-NULL m of the same kind.
-- "Kind" only varies for views: Instagram answers count plays or views (video_statistics.views_kind), and a
-- value of one kind is never subtracted from a value of the other. Any sum of contributions (a day, a week, a
-- period, a campaign) is NULL when all of its contributions are NULL, so a metric a platform never reports
-- stays NULL in every figure, and a metric hidden for a while and visible again grows by the difference
-- between the visible values (no jump through 0).

-- ---- increments and growth may be NULL ---------------------------------------------------------------------

alter table analytics.mv_video_daily_increments
    alter column views_delta drop not null, alter column views_delta drop default,
    alter column likes_delta drop not null, alter column likes_delta drop default,
    alter column comments_delta drop not null, alter column comments_delta drop default,
    alter column reposts_delta drop not null, alter column reposts_delta drop default,
    alter column saves_delta drop not null, alter column saves_delta drop default;
alter table analytics.mv_video_weekly_increments
    alter column views_delta drop not null, alter column views_delta drop default,
    alter column likes_delta drop not null, alter column likes_delta drop default,
    alter column comments_delta drop not null, alter column comments_delta drop default,
    alter column reposts_delta drop not null, alter column reposts_delta drop default,
    alter column saves_delta drop not null, alter column saves_delta drop default;
alter table analytics.video_growth
    alter column views drop not null, alter column views drop default,
    alter column likes drop not null, alter column likes drop default,
    alter column comments drop not null, alter column comments drop default,
    alter column reposts drop not null, alter column reposts drop default,
    alter column saves drop not null, alter column saves drop default;
comment on table analytics.video_growth is
    'Sum of daily increments per video over the last 1, 7 and 30 UTC days ending on '
    'read_model_state.growth_as_of (NULL: nothing measured); maintained by analytics.refresh_materialized_views().';

-- The growth sort is "sum desc, NULLs last, id": unknown growth after every known one.
drop index analytics.video_growth_views_idx, analytics.video_growth_likes_idx, analytics.video_growth_comments_idx,
    analytics.video_growth_reposts_idx, analytics.video_growth_saves_idx;
create index video_growth_views_idx on analytics.video_growth (period_days, views desc nulls last, video_id);
create index video_growth_likes_idx on analytics.video_growth (period_days, likes desc nulls last, video_id);
create index video_growth_comments_idx on analytics.video_growth (period_days, comments desc nulls last, video_id);
create index video_growth_reposts_idx on analytics.video_growth (period_days, reposts desc nulls last, video_id);
create index video_growth_saves_idx on analytics.video_growth (period_days, saves desc nulls last, video_id);

-- The latest snapshot's views kind, and the last plays value (views_carry keeps the last views value).
alter table analytics.video_latest_statistics
    add column views_kind text check (views_kind in ('views', 'plays')),
    add column plays_carry bigint;

create or replace view analytics.videos_with_statistics_fast as
    select v.*, l.views, l.likes, l.comments, l.reposts, l.saves, l.created_at as stats_created_at, l.views_kind
      from analytics.video_latest_statistics l
      join analytics.videos v on v.id = l.video_id;

-- ---- the reference definition ------------------------------------------------------------------------------

create or replace function analytics.video_daily_increments_upto(p_max_id bigint)
returns table (
    video_id uuid, external_video_id text, date date, views_delta bigint, likes_delta bigint,
    comments_delta bigint, reposts_delta bigint, saves_delta bigint, snapshots integer
)
language sql
stable
set search_path = ''
as $$
    with split as (
        -- views of each kind as its own series: plays are never compared with views
        select s.video_id, s.external_video_id, s.id, s.created_at,
               case when s.views_kind = 'views' then s.views end as views,
               case when s.views_kind = 'plays' then s.views end as plays,
               s.likes, s.comments, s.reposts, s.saves
          from analytics.video_statistics s
         where p_max_id is null or s.id <= p_max_id
    ), numbered as (
        -- Within a video, count(m) up to a row numbers the runs that start at each non-NULL m.
        select s.*,
               count(s.views) over w as views_run, count(s.plays) over w as plays_run,
               count(s.likes) over w as likes_run, count(s.comments) over w as comments_run,
               count(s.reposts) over w as reposts_run, count(s.saves) over w as saves_run
          from split s
        window w as (partition by s.video_id order by s.created_at, s.id)
    ), carried as (
        -- The last non-NULL m at or before each row: the first value of its run (NULL before the first one).
        select n.*,
               first_value(n.views) over (partition by n.video_id, n.views_run order by n.created_at, n.id)
                   as views_last,
               first_value(n.plays) over (partition by n.video_id, n.plays_run order by n.created_at, n.id)
                   as plays_last,
               first_value(n.likes) over (partition by n.video_id, n.likes_run order by n.created_at, n.id)
                   as likes_last,
               first_value(n.comments) over (partition by n.video_id, n.comments_run order by n.created_at, n.id)
                   as comments_last,
               first_value(n.reposts) over (partition by n.video_id, n.reposts_run order by n.created_at, n.id)
                   as reposts_last,
               first_value(n.saves) over (partition by n.video_id, n.saves_run order by n.created_at, n.id)
                   as saves_last
          from numbered n
    ), contributions as (
        select c.video_id, c.external_video_id, (c.created_at at time zone 'UTC')::date as day,
               -- a row has views of one kind at most, so at most one of the two is not NULL
               coalesce(c.views - coalesce(lag(c.views_last) over w, c.views),
                        c.plays - coalesce(lag(c.plays_last) over w, c.plays)) as views_c,
               c.likes - coalesce(lag(c.likes_last) over w, c.likes) as likes_c,
               c.comments - coalesce(lag(c.comments_last) over w, c.comments) as comments_c,
               c.reposts - coalesce(lag(c.reposts_last) over w, c.reposts) as reposts_c,
               c.saves - coalesce(lag(c.saves_last) over w, c.saves) as saves_c
          from carried c
        window w as (partition by c.video_id order by c.created_at, c.id)
    )
    select video_id, max(external_video_id), day,
           sum(views_c)::bigint, sum(likes_c)::bigint, sum(comments_c)::bigint, sum(reposts_c)::bigint,
           sum(saves_c)::bigint, count(*)::integer
      from contributions
     group by video_id, day
$$;

-- ---- the contributions of one video's snapshots of one day (campaign boundaries) ----------------------------

-- Every snapshot of p_day (UTC) of the video with id <= p_max_id, with its contributions, computed from the
-- snapshot before the day (one index probe per metric) and the day's own rows: never the whole history.
create function analytics.video_day_contributions(p_video_id uuid, p_day date, p_max_id bigint)
returns table (
    id bigint, created_at timestamptz, views bigint, likes bigint, comments bigint, reposts bigint, saves bigint
)
language sql
stable
set search_path = ''
as $$
    with bounds as (
        select (p_day::timestamp at time zone 'UTC') as t0, ((p_day + 1)::timestamp at time zone 'UTC') as t1
    ), seed as (
        select 0::bigint as id, '-infinity'::timestamptz as created_at, true as is_seed,
               (select s.views from analytics.video_statistics s
                 where s.video_id = p_video_id and s.id <= p_max_id and s.created_at < b.t0
                   and s.views is not null and s.views_kind = 'views'
                 order by s.created_at desc, s.id desc limit 1) as views,
               (select s.views from analytics.video_statistics s
                 where s.video_id = p_video_id and s.id <= p_max_id and s.created_at < b.t0
                   and s.views is not null and s.views_kind = 'plays'
                 order by s.created_at desc, s.id desc limit 1) as plays,
               (select s.likes from analytics.video_statistics s
                 where s.video_id = p_video_id and s.id <= p_max_id and s.created_at < b.t0 and s.likes is not null
                 order by s.created_at desc, s.id desc limit 1) as likes,
               (select s.comments from analytics.video_statistics s
                 where s.video_id = p_video_id and s.id <= p_max_id and s.created_at < b.t0 and s.comments is not null
                 order by s.created_at desc, s.id desc limit 1) as comments,
               (select s.reposts from analytics.video_statistics s
                 where s.video_id = p_video_id and s.id <= p_max_id and s.created_at < b.t0 and s.reposts is not null
                 order by s.created_at desc, s.id desc limit 1) as reposts,
               (select s.saves from analytics.video_statistics s
                 where s.video_id = p_video_id and s.id <= p_max_id and s.created_at < b.t0 and s.saves is not null
                 order by s.created_at desc, s.id desc limit 1) as saves
          from bounds b
    ), day_rows as (
        select * from seed
        union all
        select s.id, s.created_at, false,
               case when s.views_kind = 'views' then s.views end, case when s.views_kind = 'plays' then s.views end,
               s.likes, s.comments, s.reposts, s.saves
          from analytics.video_statistics s, bounds b
         where s.video_id = p_video_id and s.id <= p_max_id and s.created_at >= b.t0 and s.created_at < b.t1
    ), positioned as (
        select r.*, row_number() over (order by r.created_at, r.id) as position from day_rows r
    ), carried as (
        -- the last non-NULL m so far: the one with the highest position
        select p.*,
               (max(array[p.position, p.views]) filter (where p.views is not null) over o)[2] as views_last,
               (max(array[p.position, p.plays]) filter (where p.plays is not null) over o)[2] as plays_last,
               (max(array[p.position, p.likes]) filter (where p.likes is not null) over o)[2] as likes_last,
               (max(array[p.position, p.comments]) filter (where p.comments is not null) over o)[2] as comments_last,
               (max(array[p.position, p.reposts]) filter (where p.reposts is not null) over o)[2] as reposts_last,
               (max(array[p.position, p.saves]) filter (where p.saves is not null) over o)[2] as saves_last
          from positioned p
        window o as (order by p.position)
    ), contributions as (
        select c.id, c.created_at, c.is_seed,
               coalesce(c.views - coalesce(lag(c.views_last) over o, c.views),
                        c.plays - coalesce(lag(c.plays_last) over o, c.plays)) as views,
               c.likes - coalesce(lag(c.likes_last) over o, c.likes) as likes,
               c.comments - coalesce(lag(c.comments_last) over o, c.comments) as comments,
               c.reposts - coalesce(lag(c.reposts_last) over o, c.reposts) as reposts,
               c.saves - coalesce(lag(c.saves_last) over o, c.saves) as saves
          from carried c
        window o as (order by c.position)
    )
    select id, created_at, views, likes, comments, reposts, saves from contributions where not is_seed
$$;

-- ---- campaign growth -------------------------------------------------------------------------------------
--
-- A video's growth in a campaign counts the contributions of its snapshots taken after the moment it entered
-- the campaign, entry_at = max(campaign start, the video's added_at), and before the campaign's end (open
-- campaigns: no end). So it is measured from its baseline, the last snapshot at or before entry_at (or, when
-- there is none, its first snapshot after it), to its last snapshot before the end; and growth after the end
-- is excluded. Days wholly inside (entry_at, end) count their daily increments; the first and the last day
-- count only the snapshots inside, which this relation keeps, so the campaign's daily and weekly series sum
-- to exactly the campaign's growth, and no reader ever reads a snapshot.
create table analytics.campaign_video_bounds (
    campaign_id     uuid not null,
    video_id        uuid not null,
    entry_at        timestamptz not null,
    exit_at         timestamptz,
    entry_day       date not null,  -- the UTC day of entry_at: the first counted day
    last_day        date,           -- the UTC day just before exit_at: the last counted day (NULL: open)
    -- the counted growth of entry_day (snapshots after entry_at, and before exit_at on a one-day stay)
    entry_views     bigint,
    entry_likes     bigint,
    entry_comments  bigint,
    entry_reposts   bigint,
    entry_saves     bigint,
    entry_snapshots integer not null default 0,
    -- the counted growth of last_day when it is another day (snapshots before exit_at)
    last_views      bigint,
    last_likes      bigint,
    last_comments   bigint,
    last_reposts    bigint,
    last_saves      bigint,
    last_snapshots  integer not null default 0,
    -- computed by a writer's transaction: the next refresh computes it again (it may have raced a refresh)
    pending         boolean not null default true,
    primary key (campaign_id, video_id),
    foreign key (campaign_id, video_id) references analytics.campaign_videos (campaign_id, video_id)
        on delete cascade
);
comment on table analytics.campaign_video_bounds is
    'Per campaign video: when its campaign growth starts and ends, and the counted growth of those two UTC '
    'days; kept by triggers on campaign_videos and campaigns and by analytics.refresh_materialized_views().';
create index campaign_video_bounds_video_idx on analytics.campaign_video_bounds (video_id);
create index campaign_video_bounds_pending_idx on analytics.campaign_video_bounds (campaign_id) where pending;

-- Computes the bounds of the given memberships from the snapshots with id <= p_max_id and stores them. A
-- stored row whose entry or exit changed meanwhile (a concurrent edit) is left for that edit's own result.
create function analytics.compute_campaign_video_bounds(
    p_campaign_ids uuid[], p_video_ids uuid[], p_max_id bigint, p_pending boolean
) returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    changed_rows bigint;
begin
    with pairs as (
        select distinct cv.campaign_id, cv.video_id, greatest(c.starts_at, cv.added_at) as entry_at,
               c.ends_at as exit_at
          from unnest(p_campaign_ids, p_video_ids) p(campaign_id, video_id)
          join analytics.campaign_videos cv on cv.campaign_id = p.campaign_id and cv.video_id = p.video_id
          join analytics.campaigns c on c.id = cv.campaign_id
    ), days as (
        select p.*, (p.entry_at at time zone 'UTC')::date as entry_day,
               ((p.exit_at - interval '1 microsecond') at time zone 'UTC')::date as last_day
          from pairs p
    )
    insert into analytics.campaign_video_bounds as b
           (campaign_id, video_id, entry_at, exit_at, entry_day, last_day,
            entry_views, entry_likes, entry_comments, entry_reposts, entry_saves, entry_snapshots,
            last_views, last_likes, last_comments, last_reposts, last_saves, last_snapshots, pending)
    select d.campaign_id, d.video_id, d.entry_at, d.exit_at, d.entry_day, d.last_day,
           e.views, e.likes, e.comments, e.reposts, e.saves, coalesce(e.snapshots, 0),
           l.views, l.likes, l.comments, l.reposts, l.saves, coalesce(l.snapshots, 0), p_pending
      from days d
      left join lateral (
          select sum(c.views)::bigint as views, sum(c.likes)::bigint as likes, sum(c.comments)::bigint as comments,
                 sum(c.reposts)::bigint as reposts, sum(c.saves)::bigint as saves, count(*)::integer as snapshots
            from analytics.video_day_contributions(d.video_id, d.entry_day, p_max_id) c
           where c.created_at > d.entry_at and (d.exit_at is null or c.created_at < d.exit_at)
             and (d.last_day is null or d.last_day >= d.entry_day)) e on true
      left join lateral (
          select sum(c.views)::bigint as views, sum(c.likes)::bigint as likes, sum(c.comments)::bigint as comments,
                 sum(c.reposts)::bigint as reposts, sum(c.saves)::bigint as saves, count(*)::integer as snapshots
            from analytics.video_day_contributions(d.video_id, d.last_day, p_max_id) c
           where c.created_at < d.exit_at) l on d.last_day > d.entry_day
    on conflict (campaign_id, video_id) do update
       set entry_at = excluded.entry_at, exit_at = excluded.exit_at, entry_day = excluded.entry_day,
           last_day = excluded.last_day,
           entry_views = excluded.entry_views, entry_likes = excluded.entry_likes,
           entry_comments = excluded.entry_comments, entry_reposts = excluded.entry_reposts,
           entry_saves = excluded.entry_saves, entry_snapshots = excluded.entry_snapshots,
           last_views = excluded.last_views, last_likes = excluded.last_likes,
           last_comments = excluded.last_comments, last_reposts = excluded.last_reposts,
           last_saves = excluded.last_saves, last_snapshots = excluded.last_snapshots,
           pending = excluded.pending
     -- a refresh never overwrites what a concurrent edit of the membership or campaign wrote
     where p_pending or (b.entry_at = excluded.entry_at and b.exit_at is not distinct from excluded.exit_at);
    get diagnostics changed_rows = row_count;
    return changed_rows;
end
$$;
comment on function analytics.compute_campaign_video_bounds(uuid[], uuid[], bigint, boolean) is
    'Computes and stores campaign_video_bounds of the given (campaign, video) pairs up to a snapshot id.';

-- Writers' triggers: a membership added or changed, or a campaign's window moved, gets its bounds at once,
-- in the writer's transaction, from the snapshots the read model reflects; marked pending for the next
-- refresh, which may have moved the watermark meanwhile.
create function analytics.campaign_videos_bounds_trigger()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform analytics.compute_campaign_video_bounds(
        array(select n.campaign_id from changed_rows n order by n.campaign_id, n.video_id),
        array(select n.video_id from changed_rows n order by n.campaign_id, n.video_id),
        (select watermark from analytics.read_model_state where name = 'video_statistics'), true);
    return null;
end
$$;
create trigger campaign_videos_bounds_on_insert
    after insert on analytics.campaign_videos
    referencing new table as changed_rows
    for each statement execute function analytics.campaign_videos_bounds_trigger();
create trigger campaign_videos_bounds_on_update
    after update on analytics.campaign_videos
    referencing new table as changed_rows
    for each statement execute function analytics.campaign_videos_bounds_trigger();

create function analytics.campaigns_bounds_trigger()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform analytics.compute_campaign_video_bounds(array_agg(cv.campaign_id), array_agg(cv.video_id),
            (select watermark from analytics.read_model_state where name = 'video_statistics'), true)
       from new_campaigns n
       join old_campaigns o on o.id = n.id
       join analytics.campaign_videos cv on cv.campaign_id = n.id
      where (n.starts_at, n.ends_at) is distinct from (o.starts_at, o.ends_at);
    return null;
end
$$;
create trigger campaigns_bounds_on_update
    after update on analytics.campaigns
    referencing old table as old_campaigns new table as new_campaigns
    for each statement execute function analytics.campaigns_bounds_trigger();

-- THE definition of campaign growth: per video and counted UTC day in [p_from, p_to] (NULL: unbounded), the
-- video's counted growth. Every campaign figure (per video, total, daily and weekly series) sums these rows.
create function analytics.campaign_video_days(p_campaign_id uuid, p_from date, p_to date)
returns table (
    video_id uuid, date date, views bigint, likes bigint, comments bigint, reposts bigint, saves bigint,
    snapshots integer
)
language sql
stable
set search_path = ''
as $$
    -- Each video's own days through the primary key (a lateral range scan): the plan never depends on how
    -- many videos or days the whole table holds.
    select b.video_id, d.date,
           case when d.date = b.entry_day then b.entry_views when d.date = b.last_day then b.last_views
                else d.views_delta end,
           case when d.date = b.entry_day then b.entry_likes when d.date = b.last_day then b.last_likes
                else d.likes_delta end,
           case when d.date = b.entry_day then b.entry_comments when d.date = b.last_day then b.last_comments
                else d.comments_delta end,
           case when d.date = b.entry_day then b.entry_reposts when d.date = b.last_day then b.last_reposts
                else d.reposts_delta end,
           case when d.date = b.entry_day then b.entry_saves when d.date = b.last_day then b.last_saves
                else d.saves_delta end,
           case when d.date = b.entry_day then b.entry_snapshots when d.date = b.last_day then b.last_snapshots
                else d.snapshots end
      from analytics.campaign_video_bounds b
     cross join lateral (
           select i.date, i.views_delta, i.likes_delta, i.comments_delta, i.reposts_delta, i.saves_delta, i.snapshots
             from analytics.mv_video_daily_increments i
            where i.video_id = b.video_id
              and i.date >= greatest(b.entry_day, p_from)
              and i.date <= coalesce(least(b.last_day, p_to), 'infinity'::date)
            offset 0) d  -- a fence: per video, never flattened into one join over every daily row
     where b.campaign_id = p_campaign_id
$$;
comment on function analytics.campaign_video_days(uuid, date, date) is
    'Counted growth per campaign video and UTC day: the one definition every campaign figure sums.';

-- Per video of the campaign: its growth over the counted days in [p_from, p_to] (NULL metrics: nothing
-- measured), and the first and last counted day (NULL when none falls in the range).
create function analytics.campaign_video_growth(p_campaign_id uuid, p_from date, p_to date)
returns table (
    video_id uuid, counted_from date, counted_to date, views bigint, likes bigint, comments bigint,
    reposts bigint, saves bigint, snapshots bigint
)
language sql
stable
set search_path = ''
as $$
    with sums as (  -- the campaign's days read once, summed per video
        select x.video_id, sum(x.views)::bigint as views, sum(x.likes)::bigint as likes,
               sum(x.comments)::bigint as comments, sum(x.reposts)::bigint as reposts, sum(x.saves)::bigint as saves,
               sum(x.snapshots)::bigint as snapshots
          from analytics.campaign_video_days(p_campaign_id, p_from, p_to) x
         group by x.video_id
    )
    select b.video_id,
           case when r.first_day <= r.last_day then r.first_day end,
           case when r.first_day <= r.last_day then r.last_day end,
           g.views, g.likes, g.comments, g.reposts, g.saves, coalesce(g.snapshots, 0)
      from analytics.campaign_video_bounds b
     cross join lateral (select greatest(b.entry_day, p_from) as first_day, least(b.last_day, p_to) as last_day) r
      left join sums g on g.video_id = b.video_id
     where b.campaign_id = p_campaign_id
$$;
comment on function analytics.campaign_video_growth(uuid, date, date) is
    'Growth of each campaign video over its counted days in [p_from, p_to]; sums campaign_video_days().';

-- The points of a series over [p_from, p_to]: each UTC day ('day'), or each ISO week ('week') cut to the range
-- (a range starting on a Tuesday starts its first week that Tuesday), so no point covers a day outside it.
create function analytics.series_periods(p_from date, p_to date, p_bucket text)
returns table (period_start date, period_end date)
language sql
immutable
set search_path = ''
as $$
    select greatest(s.p::date, p_from),
           least(case when p_bucket = 'week' then s.p::date + 6 else s.p::date end, p_to)
      from generate_series(case when p_bucket = 'week' then date_trunc('week', p_from)::date else p_from end,
                           p_to, case when p_bucket = 'week' then interval '1 week' else interval '1 day' end) s(p)
$$;

-- The campaign's series: one point per UTC day ('day') or per ISO week ('week') of [p_from, p_to], each
-- summing campaign_video_days() over its days inside the range (a week cut by the range starts or ends
-- with it: period_start and period_end say which days it covers). NULL metrics: nothing measured.
create function analytics.campaign_series(p_campaign_id uuid, p_from date, p_to date, p_bucket text)
returns table (
    period_start date, period_end date, views bigint, likes bigint, comments bigint, reposts bigint,
    saves bigint, snapshots bigint
)
language sql
stable
set search_path = ''
as $$
    with sums as (  -- each counted day falls in the point starting on its day, or on its week's first day
        select case when p_bucket = 'week' then greatest(date_trunc('week', d.date)::date, p_from) else d.date end
                   as period_start,
               sum(d.views)::bigint as views, sum(d.likes)::bigint as likes, sum(d.comments)::bigint as comments,
               sum(d.reposts)::bigint as reposts, sum(d.saves)::bigint as saves, sum(d.snapshots)::bigint as snapshots
          from analytics.campaign_video_days(p_campaign_id, p_from, p_to) d
         group by 1
    )
    select p.period_start, p.period_end, s.views, s.likes, s.comments, s.reposts, s.saves,
           coalesce(s.snapshots, 0)
      from analytics.series_periods(p_from, p_to, p_bucket) p
      left join sums s on s.period_start = p.period_start
     order by p.period_start
$$;
comment on function analytics.campaign_series(uuid, date, date, text) is
    'Daily or weekly points of a campaign''s growth over [p_from, p_to]; sums campaign_video_days().';

-- Totals: the latest snapshot's counters, summed per campaign and per creator (NULL: no video reports it).
create view analytics.campaign_totals as
    select cv.campaign_id, count(*) as videos, sum(l.views)::bigint as views, sum(l.likes)::bigint as likes,
           sum(l.comments)::bigint as comments, sum(l.reposts)::bigint as reposts, sum(l.saves)::bigint as saves
      from analytics.campaign_videos cv
      left join analytics.video_latest_statistics l on l.video_id = cv.video_id
     group by cv.campaign_id;
create view analytics.blogger_totals as
    select v.blogger_id, count(*) as videos, sum(l.views)::bigint as views, sum(l.likes)::bigint as likes,
           sum(l.comments)::bigint as comments, sum(l.reposts)::bigint as reposts, sum(l.saves)::bigint as saves
      from analytics.videos v
      left join analytics.video_latest_statistics l on l.video_id = v.id
     where v.blogger_id is not null
     group by v.blogger_id;

-- A video's growth over the UTC days [p_first, p_last]: the sum of its daily increments (NULL: nothing
-- measured). What GET /videos, /videos/{id}, /bloggers and the export's "+Nd" columns show. p_video_ids NULL:
-- every video (one pass over the period's days); else those videos (their own days, by primary key).
create function analytics.video_period_growth(p_video_ids uuid[], p_first date, p_last date)
returns table (video_id uuid, views bigint, likes bigint, comments bigint, reposts bigint, saves bigint)
language plpgsql
stable
set search_path = ''
as $$
begin
    if p_video_ids is null then
        return query
            select d.video_id, sum(d.views_delta)::bigint, sum(d.likes_delta)::bigint,
                   sum(d.comments_delta)::bigint, sum(d.reposts_delta)::bigint, sum(d.saves_delta)::bigint
              from analytics.mv_video_daily_increments d
             where d.date between p_first and p_last
             group by d.video_id;
    else
        return query
            select d.video_id, sum(d.views_delta)::bigint, sum(d.likes_delta)::bigint,
                   sum(d.comments_delta)::bigint, sum(d.reposts_delta)::bigint, sum(d.saves_delta)::bigint
              from analytics.mv_video_daily_increments d
             where d.video_id = any(p_video_ids) and d.date between p_first and p_last
             group by d.video_id;
    end if;
end
$$;
comment on function analytics.video_period_growth(uuid[], date, date) is
    'Growth of each given video over the UTC days [p_first, p_last]: the sum of its daily increments.';

-- A video's series: one point per UTC day or ISO week of [p_from, p_to] (weeks cut by the range cover only
-- its days, as period_start and period_end say). NULL metrics: nothing measured.
create function analytics.video_series(p_video_id uuid, p_from date, p_to date, p_bucket text)
returns table (
    period_start date, period_end date, views bigint, likes bigint, comments bigint, reposts bigint,
    saves bigint, snapshots bigint
)
language sql
stable
set search_path = ''
as $$
    with sums as (
        select case when p_bucket = 'week' then greatest(date_trunc('week', d.date)::date, p_from) else d.date end
                   as period_start,
               sum(d.views_delta)::bigint as views, sum(d.likes_delta)::bigint as likes,
               sum(d.comments_delta)::bigint as comments, sum(d.reposts_delta)::bigint as reposts,
               sum(d.saves_delta)::bigint as saves, sum(d.snapshots)::bigint as snapshots
          from analytics.mv_video_daily_increments d
         where d.video_id = p_video_id and d.date between p_from and p_to
         group by 1
    )
    select p.period_start, p.period_end, s.views, s.likes, s.comments, s.reposts, s.saves,
           coalesce(s.snapshots, 0)
      from analytics.series_periods(p_from, p_to, p_bucket) p
      left join sums s on s.period_start = p.period_start
     order by p.period_start
$$;
comment on function analytics.video_series(uuid, date, date, text) is
    'Daily or weekly points of a video''s growth over [p_from, p_to].';

-- ---- the refresh: the rules above, step by step ------------------------------------------------------------

create or replace function analytics.resum_video_growth(p_as_of date, p_video_ids uuid[])
returns bigint
language plpgsql
set search_path = ''
as $$
declare
    changed_rows bigint;
    nestloop text := current_setting('enable_nestloop');
begin
    -- Many videos (a rebuild chunk): one scan of the daily rows, hash-joined, is several times quicker than
    -- the planner's choice for want of estimates (30 scattered heap pages per video through the primary key).
    if cardinality(p_video_ids) > 1000 then
        perform set_config('enable_nestloop', 'off', true);
    end if;
    with ids as (
        select distinct id from unnest(p_video_ids) u(id)
    ), sums as (
        select d.video_id,
               sum(d.views_delta) filter (where d.date = p_as_of) as views_1,
               sum(d.likes_delta) filter (where d.date = p_as_of) as likes_1,
               sum(d.comments_delta) filter (where d.date = p_as_of) as comments_1,
               sum(d.reposts_delta) filter (where d.date = p_as_of) as reposts_1,
               sum(d.saves_delta) filter (where d.date = p_as_of) as saves_1,
               sum(d.views_delta) filter (where d.date > p_as_of - 7) as views_7,
               sum(d.likes_delta) filter (where d.date > p_as_of - 7) as likes_7,
               sum(d.comments_delta) filter (where d.date > p_as_of - 7) as comments_7,
               sum(d.reposts_delta) filter (where d.date > p_as_of - 7) as reposts_7,
               sum(d.saves_delta) filter (where d.date > p_as_of - 7) as saves_7,
               sum(d.views_delta) as views_30, sum(d.likes_delta) as likes_30,
               sum(d.comments_delta) as comments_30, sum(d.reposts_delta) as reposts_30,
               sum(d.saves_delta) as saves_30
          from analytics.mv_video_daily_increments d
          join ids on ids.id = d.video_id
         where d.date between p_as_of - 29 and p_as_of
         group by d.video_id
    )
    insert into analytics.video_growth as g (video_id, period_days, views, likes, comments, reposts, saves)
    select v.id, p.days, p.views, p.likes, p.comments, p.reposts, p.saves  -- NULL: nothing measured
      from ids
      join analytics.videos v on v.id = ids.id  -- deleted meanwhile: no row (the foreign key)
      left join sums s on s.video_id = v.id
     cross join lateral (values
           (1::smallint, s.views_1, s.likes_1, s.comments_1, s.reposts_1, s.saves_1),
           (7::smallint, s.views_7, s.likes_7, s.comments_7, s.reposts_7, s.saves_7),
           (30::smallint, s.views_30, s.likes_30, s.comments_30, s.reposts_30, s.saves_30)
           ) p(days, views, likes, comments, reposts, saves)
    on conflict (video_id, period_days) do update
       set views = excluded.views, likes = excluded.likes, comments = excluded.comments,
           reposts = excluded.reposts, saves = excluded.saves
     where (g.views, g.likes, g.comments, g.reposts, g.saves)
           is distinct from (excluded.views, excluded.likes, excluded.comments, excluded.reposts, excluded.saves);
    get diagnostics changed_rows = row_count;
    perform set_config('enable_nestloop', nestloop, true);
    return changed_rows;
end
$$;

create or replace function analytics.refresh_materialized_views(p_max_rows integer default 100000)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    started     timestamptz := clock_timestamp();
    old_mark    bigint;
    safe_mark   bigint;
    new_mark    bigint;
    batch_rows  bigint;
    batch_videos bigint;
    late_videos bigint;
    duration_ms numeric;
    growth_day  date;
    growth_rebuilt boolean;
    growth_pending boolean := false;
    rebuild_day date;
    rebuild_after uuid;
    rebuild_batch integer;
    rebuild_ids uuid[];
begin
    -- One refresh at a time; a second caller returns at once. Transaction-scoped, so it works through a
    -- transaction-mode pooler and is released by commit or rollback.
    if not pg_try_advisory_xact_lock(hashtext('analytics.refresh_materialized_views')) then
        return jsonb_build_object('status', 'busy', 'caught_up', false,
                                  'message', 'another refresh is running; this call did nothing');
    end if;

    select watermark into old_mark from analytics.read_model_state where name = 'video_statistics' for update;

    -- Sequence values commit out of order: a transaction that drew id 10 may commit after one that drew 11.
    -- Taking the table lock waits until every in-flight insert has finished (new ones queue for that
    -- instant); then every id up to the sequence's current value is committed or rolled back for good.
    -- The lock is released at once by rolling back the sub-block (the Citus incremental-rollup pattern).
    -- Writers queue behind the lock request while it waits, so it waits briefly: a writer still in flight
    -- after that makes this call return 'busy' and the next one try again.
    begin
        perform set_config('lock_timeout', '2s', true);
        lock table analytics.video_statistics in exclusive mode;
        safe_mark := coalesce(pg_sequence_last_value('analytics.video_statistics_id_seq'), 0);
        raise exception using errcode = 'VSLCK';
    exception
        when sqlstate 'VSLCK' then
            null;
        when lock_not_available then
            return jsonb_build_object('status', 'busy', 'caught_up', false,
                                      'message', 'snapshot writers stayed in flight; try again');
    end;
    perform set_config('lock_timeout', '0', true);

    drop table if exists pg_temp.refresh_batch, pg_temp.refresh_videos, pg_temp.refresh_rows,
        pg_temp.refresh_contributions;
    -- Views of each kind are their own series here (views, plays): one is never subtracted from the other.
    create temporary table refresh_batch as
        select s.id, s.video_id, s.external_video_id, s.created_at,
               case when s.views_kind = 'views' then s.views end as views,
               case when s.views_kind = 'plays' then s.views end as plays,
               s.likes, s.comments, s.reposts, s.saves, s.views_kind
          from analytics.video_statistics s
         where s.id > old_mark and s.id <= safe_mark
         order by s.id
         limit p_max_rows;
    get diagnostics batch_rows = row_count;
    analyze pg_temp.refresh_batch;
    -- A short batch took everything up to safe_mark: the watermark jumps there, over ids that rolled-back
    -- inserts consumed and that will never appear. A full batch stops at its last id.
    if batch_rows < p_max_rows then
        new_mark := greatest(safe_mark, old_mark);
    else
        new_mark := (select max(id) from pg_temp.refresh_batch);
    end if;

    -- Per video: where its new rows start, and whether any of them sorts before what is already reflected
    -- ("late": then its days from that one on are recomputed from history).
    create temporary table refresh_videos as
        select b.video_id, b.first_created_at, b.first_id,
               coalesce((b.first_created_at, b.first_id) < (l.created_at, l.statistics_id), false) as late,
               ((b.first_created_at at time zone 'UTC')::date) as from_day,
               ((b.last_created_at at time zone 'UTC')::date) as to_day
          from (select video_id, min(created_at) as first_created_at, max(created_at) as last_created_at,
                       (array_agg(id order by created_at, id))[1] as first_id
                  from pg_temp.refresh_batch group by video_id) b
          left join analytics.video_latest_statistics l on l.video_id = b.video_id;
    analyze pg_temp.refresh_videos;
    select count(*), count(*) filter (where late) into batch_videos, late_videos from pg_temp.refresh_videos;

    -- The rows to run the window computation over. In-order videos: a seed row carrying each metric's last
    -- non-NULL value, then the new rows. Late videos: a seed row looked up just before from_day, then all
    -- their reflected rows (id <= new_mark) from from_day on.
    create temporary table refresh_rows as
        select l.video_id, l.external_video_id, 0::bigint as id, '-infinity'::timestamptz as created_at,
               l.views_carry as views, l.plays_carry as plays, l.likes_carry as likes,
               l.comments_carry as comments, l.reposts_carry as reposts, l.saves_carry as saves,
               null::text as views_kind, true as is_seed
          from pg_temp.refresh_videos r join analytics.video_latest_statistics l on l.video_id = r.video_id
         where not r.late
        union all
        select b.video_id, b.external_video_id, b.id, b.created_at,
               b.views, b.plays, b.likes, b.comments, b.reposts, b.saves, b.views_kind, false
          from pg_temp.refresh_batch b join pg_temp.refresh_videos r on r.video_id = b.video_id
         where not r.late
        union all
        select r.video_id, l.external_video_id, 0, '-infinity',
               (select s.views from analytics.video_statistics s
                 where s.video_id = r.video_id and s.id <= new_mark and s.views is not null
                   and s.views_kind = 'views' and s.created_at < (r.from_day::timestamp at time zone 'UTC')
                 order by s.created_at desc, s.id desc limit 1),
               (select s.views from analytics.video_statistics s
                 where s.video_id = r.video_id and s.id <= new_mark and s.views is not null
                   and s.views_kind = 'plays' and s.created_at < (r.from_day::timestamp at time zone 'UTC')
                 order by s.created_at desc, s.id desc limit 1),
               (select s.likes from analytics.video_statistics s
                 where s.video_id = r.video_id and s.id <= new_mark and s.likes is not null
                   and s.created_at < (r.from_day::timestamp at time zone 'UTC')
                 order by s.created_at desc, s.id desc limit 1),
               (select s.comments from analytics.video_statistics s
                 where s.video_id = r.video_id and s.id <= new_mark and s.comments is not null
                   and s.created_at < (r.from_day::timestamp at time zone 'UTC')
                 order by s.created_at desc, s.id desc limit 1),
               (select s.reposts from analytics.video_statistics s
                 where s.video_id = r.video_id and s.id <= new_mark and s.reposts is not null
                   and s.created_at < (r.from_day::timestamp at time zone 'UTC')
                 order by s.created_at desc, s.id desc limit 1),
               (select s.saves from analytics.video_statistics s
                 where s.video_id = r.video_id and s.id <= new_mark and s.saves is not null
                   and s.created_at < (r.from_day::timestamp at time zone 'UTC')
                 order by s.created_at desc, s.id desc limit 1),
               null, true
          from pg_temp.refresh_videos r join analytics.video_latest_statistics l on l.video_id = r.video_id
         where r.late
        union all
        select s.video_id, s.external_video_id, s.id, s.created_at,
               case when s.views_kind = 'views' then s.views end, case when s.views_kind = 'plays' then s.views end,
               s.likes, s.comments, s.reposts, s.saves, s.views_kind, false
          from pg_temp.refresh_videos r
          join analytics.video_statistics s
            on s.video_id = r.video_id and s.id <= new_mark
           and s.created_at >= (r.from_day::timestamp at time zone 'UTC')
         where r.late;

    analyze pg_temp.refresh_rows;

    -- Contributions and each metric's last non-NULL value (the reference's rules, computed another way).
    create temporary table refresh_contributions as
        with positioned as (
            -- (position, id, value) arrays order like (created_at, id): the max over the rows so far of
            -- those with a non-NULL m is the last non-NULL m. One window, one sort, all five metrics.
            select w.*,
                   case when w.is_seed then -9223372036854775807
                        else (extract(epoch from w.created_at) * 1000000)::bigint end as position
              from pg_temp.refresh_rows w
        ), carried as (
            select p.*,
                   (max(array[p.position, p.id, p.views]) filter (where p.views is not null) over o)[3]
                       as views_last,
                   (max(array[p.position, p.id, p.plays]) filter (where p.plays is not null) over o)[3]
                       as plays_last,
                   (max(array[p.position, p.id, p.likes]) filter (where p.likes is not null) over o)[3]
                       as likes_last,
                   (max(array[p.position, p.id, p.comments]) filter (where p.comments is not null) over o)[3]
                       as comments_last,
                   (max(array[p.position, p.id, p.reposts]) filter (where p.reposts is not null) over o)[3]
                       as reposts_last,
                   (max(array[p.position, p.id, p.saves]) filter (where p.saves is not null) over o)[3]
                       as saves_last
              from positioned p
            window o as (partition by p.video_id order by p.created_at, p.id)
        )
        select c.video_id, c.external_video_id, c.id, c.created_at, c.is_seed,
               (c.created_at at time zone 'UTC')::date as day,
               coalesce(c.views, c.plays) as views, c.likes, c.comments, c.reposts, c.saves, c.views_kind,
               c.views_last, c.plays_last, c.likes_last, c.comments_last, c.reposts_last, c.saves_last,
               -- NULL: not reported; 0: the first value of its kind; else the change since the last one
               coalesce(c.views - coalesce(lag(c.views_last) over o, c.views),
                        c.plays - coalesce(lag(c.plays_last) over o, c.plays)) as views_c,
               c.likes - coalesce(lag(c.likes_last) over o, c.likes) as likes_c,
               c.comments - coalesce(lag(c.comments_last) over o, c.comments) as comments_c,
               c.reposts - coalesce(lag(c.reposts_last) over o, c.reposts) as reposts_c,
               c.saves - coalesce(lag(c.saves_last) over o, c.saves) as saves_c,
               lead(c.id) over o is null as is_latest  -- same window as lag: no extra sort
          from carried c
        window o as (partition by c.video_id order by c.created_at, c.id);

    analyze pg_temp.refresh_contributions;

    -- Daily: late videos lose their rows from from_day on (recomputed below from all their rows); then every
    -- (video, day) with new contributions is added to.
    delete from analytics.mv_video_daily_increments d
     using pg_temp.refresh_videos r
     where r.late and d.video_id = r.video_id and d.date >= r.from_day;

    insert into analytics.mv_video_daily_increments as d
           (video_id, external_video_id, date, views_delta, likes_delta, comments_delta, reposts_delta,
            saves_delta, snapshots)
    select video_id, max(external_video_id), day,
           sum(views_c), sum(likes_c), sum(comments_c), sum(reposts_c), sum(saves_c), count(*)
      from pg_temp.refresh_contributions
     where not is_seed
     group by video_id, day
    on conflict (video_id, date) do update  -- NULL + x = x: a sum of contributions skips unknown ones
       set views_delta = coalesce(d.views_delta + excluded.views_delta, d.views_delta, excluded.views_delta),
           likes_delta = coalesce(d.likes_delta + excluded.likes_delta, d.likes_delta, excluded.likes_delta),
           comments_delta = coalesce(d.comments_delta + excluded.comments_delta, d.comments_delta,
                                     excluded.comments_delta),
           reposts_delta = coalesce(d.reposts_delta + excluded.reposts_delta, d.reposts_delta,
                                    excluded.reposts_delta),
           saves_delta = coalesce(d.saves_delta + excluded.saves_delta, d.saves_delta, excluded.saves_delta),
           snapshots = d.snapshots + excluded.snapshots;

    -- Weekly: in-order videos add their new contributions; late videos have their weeks from from_day's
    -- week on rebuilt from the (now correct) daily rows.
    insert into analytics.mv_video_weekly_increments as w
           (video_id, external_video_id, week_start, views_delta, likes_delta, comments_delta, reposts_delta,
            saves_delta, snapshots)
    select c.video_id, max(c.external_video_id), date_trunc('week', c.day)::date,
           sum(c.views_c), sum(c.likes_c), sum(c.comments_c), sum(c.reposts_c), sum(c.saves_c), count(*)
      from pg_temp.refresh_contributions c join pg_temp.refresh_videos r on r.video_id = c.video_id
     where not c.is_seed and not r.late
     group by c.video_id, date_trunc('week', c.day)::date
    on conflict (video_id, week_start) do update
       set views_delta = coalesce(w.views_delta + excluded.views_delta, w.views_delta, excluded.views_delta),
           likes_delta = coalesce(w.likes_delta + excluded.likes_delta, w.likes_delta, excluded.likes_delta),
           comments_delta = coalesce(w.comments_delta + excluded.comments_delta, w.comments_delta,
                                     excluded.comments_delta),
           reposts_delta = coalesce(w.reposts_delta + excluded.reposts_delta, w.reposts_delta,
                                    excluded.reposts_delta),
           saves_delta = coalesce(w.saves_delta + excluded.saves_delta, w.saves_delta, excluded.saves_delta),
           snapshots = w.snapshots + excluded.snapshots;

    delete from analytics.mv_video_weekly_increments w
     using pg_temp.refresh_videos r
     where r.late and w.video_id = r.video_id and w.week_start >= date_trunc('week', r.from_day)::date;

    insert into analytics.mv_video_weekly_increments
           (video_id, external_video_id, week_start, views_delta, likes_delta, comments_delta, reposts_delta,
            saves_delta, snapshots)
    select d.video_id, max(d.external_video_id), date_trunc('week', d.date)::date,
           sum(d.views_delta), sum(d.likes_delta), sum(d.comments_delta), sum(d.reposts_delta),
           sum(d.saves_delta), sum(d.snapshots)
      from analytics.mv_video_daily_increments d join pg_temp.refresh_videos r on r.video_id = d.video_id
     where r.late and d.date >= date_trunc('week', r.from_day)::date
     group by d.video_id, date_trunc('week', d.date)::date;

    -- Growth for the periods ending today (UTC), in this transaction with the daily rows it sums.
    growth_day := (started at time zone 'UTC')::date;
    select growth_as_of is distinct from growth_day, growth_rebuild_day, growth_rebuild_after, growth_rebuild_batch
      into growth_rebuilt, rebuild_day, rebuild_after, rebuild_batch
      from analytics.read_model_state where name = 'video_statistics';
    if growth_rebuilt then
        -- A new day moves every video's periods. They are summed again in chunks of videos (id order), one
        -- chunk per step, so no step grows with the number of videos; readers keep summing at read time until
        -- the last chunk commits and growth_as_of moves to the new day.
        if rebuild_day is distinct from growth_day then
            rebuild_after := null;  -- this day's first chunk (an unfinished rebuild of an earlier day is moot)
        end if;
        -- Videos this step changed that the rebuild already passed: summed again, with this step's rows.
        if rebuild_after is not null then
            perform analytics.resum_video_growth(growth_day, array(
                select r.video_id from pg_temp.refresh_videos r where r.video_id <= rebuild_after));
        end if;
        rebuild_ids := array(select v.id from analytics.videos v
                              where rebuild_after is null or v.id > rebuild_after
                              order by v.id limit rebuild_batch);
        perform analytics.resum_video_growth(growth_day, rebuild_ids);
        growth_pending := cardinality(rebuild_ids) = rebuild_batch;
        update analytics.read_model_state
           set growth_as_of = case when growth_pending then growth_as_of else growth_day end,
               growth_rebuild_day = case when growth_pending then growth_day end,
               growth_rebuild_after = case when growth_pending then rebuild_ids[rebuild_batch] end
         where name = 'video_statistics';
    else
        -- In-order videos: their daily rows grew by exactly this step's contributions, so each period's sums
        -- grow by the contributions dated inside it; no daily row is read. Rows that do not change (no
        -- contribution in the period) are not touched.
        with changes as (
            select c.video_id,
                   sum(c.views_c) filter (where c.day = growth_day) as views_1,
                   sum(c.likes_c) filter (where c.day = growth_day) as likes_1,
                   sum(c.comments_c) filter (where c.day = growth_day) as comments_1,
                   sum(c.reposts_c) filter (where c.day = growth_day) as reposts_1,
                   sum(c.saves_c) filter (where c.day = growth_day) as saves_1,
                   sum(c.views_c) filter (where c.day > growth_day - 7) as views_7,
                   sum(c.likes_c) filter (where c.day > growth_day - 7) as likes_7,
                   sum(c.comments_c) filter (where c.day > growth_day - 7) as comments_7,
                   sum(c.reposts_c) filter (where c.day > growth_day - 7) as reposts_7,
                   sum(c.saves_c) filter (where c.day > growth_day - 7) as saves_7,
                   sum(c.views_c) as views_30,
                   sum(c.likes_c) as likes_30,
                   sum(c.comments_c) as comments_30,
                   sum(c.reposts_c) as reposts_30,
                   sum(c.saves_c) as saves_30
              from pg_temp.refresh_contributions c
              join pg_temp.refresh_videos r on r.video_id = c.video_id
             where not r.late and not c.is_seed and c.day between growth_day - 29 and growth_day
             group by c.video_id
        ), period_changes as (
            select s.video_id, p.*
              from changes s
             cross join lateral (values
                   (1::smallint, s.views_1, s.likes_1, s.comments_1, s.reposts_1, s.saves_1),
                   (7::smallint, s.views_7, s.likes_7, s.comments_7, s.reposts_7, s.saves_7),
                   (30::smallint, s.views_30, s.likes_30, s.comments_30, s.reposts_30, s.saves_30)
                   ) p(days, views, likes, comments, reposts, saves)
        )
        update analytics.video_growth g
           set views = coalesce(g.views + x.views, g.views, x.views),
               likes = coalesce(g.likes + x.likes, g.likes, x.likes),
               comments = coalesce(g.comments + x.comments, g.comments, x.comments),
               reposts = coalesce(g.reposts + x.reposts, g.reposts, x.reposts),
               saves = coalesce(g.saves + x.saves, g.saves, x.saves)
          from period_changes x
         where g.video_id = x.video_id and g.period_days = x.days
           -- rows that do not change are not written
           and (coalesce(g.views + x.views, g.views, x.views), coalesce(g.likes + x.likes, g.likes, x.likes),
                coalesce(g.comments + x.comments, g.comments, x.comments),
                coalesce(g.reposts + x.reposts, g.reposts, x.reposts), coalesce(g.saves + x.saves, g.saves, x.saves))
               is distinct from (g.views, g.likes, g.comments, g.reposts, g.saves);

        -- Late videos: their days from from_day on were rewritten; sum their daily rows again (only when a
        -- rewritten day falls inside the periods).
        perform analytics.resum_video_growth(growth_day, array(
            select r.video_id from pg_temp.refresh_videos r where r.late and r.from_day <= growth_day));
    end if;

    -- Latest snapshot and carries: the most recent row of each video's computation window.
    insert into analytics.video_latest_statistics as l
           (video_id, external_video_id, statistics_id, created_at, views, likes, comments, reposts, saves,
            views_kind, views_carry, plays_carry, likes_carry, comments_carry, reposts_carry, saves_carry)
    select video_id, external_video_id, id, created_at, views, likes, comments, reposts, saves,
           views_kind, views_last, plays_last, likes_last, comments_last, reposts_last, saves_last
      from pg_temp.refresh_contributions
     where is_latest and not is_seed
    on conflict (video_id) do update
       set external_video_id = excluded.external_video_id, statistics_id = excluded.statistics_id,
           created_at = excluded.created_at, views = excluded.views, likes = excluded.likes,
           comments = excluded.comments, reposts = excluded.reposts, saves = excluded.saves,
           views_kind = excluded.views_kind, views_carry = excluded.views_carry, plays_carry = excluded.plays_carry,
           likes_carry = excluded.likes_carry,
           comments_carry = excluded.comments_carry, reposts_carry = excluded.reposts_carry,
           saves_carry = excluded.saves_carry;

    -- Campaign bounds: memberships whose first or last counted day changed in this step, and those a writer
    -- computed meanwhile (pending: its transaction may have read an older watermark). A boundary day changes
    -- when rows arrived on it, or before it while it has rows (late videos); an in-order video's rows never
    -- reach past to_day, so a boundary in the future (a campaign ending next month) is left alone.
    perform analytics.compute_campaign_video_bounds(array_agg(x.campaign_id), array_agg(x.video_id), new_mark, false)
       from (select b.campaign_id, b.video_id
               from pg_temp.refresh_videos r
               join analytics.campaign_video_bounds b on b.video_id = r.video_id
              where (b.entry_day >= r.from_day and (r.late or b.entry_day <= r.to_day))
                 or (b.last_day >= r.from_day and (r.late or b.last_day <= r.to_day))
              union
             select b.campaign_id, b.video_id from analytics.campaign_video_bounds b where b.pending) x;

    drop table pg_temp.refresh_batch, pg_temp.refresh_videos, pg_temp.refresh_rows,
        pg_temp.refresh_contributions;

    duration_ms := round(extract(epoch from clock_timestamp() - started) * 1000, 1);
    update analytics.read_model_state
       set watermark = new_mark, last_run_at = started, last_success_at = clock_timestamp(),
           last_rows = batch_rows, last_videos = batch_videos, last_late_videos = late_videos,
           last_duration_ms = duration_ms, total_rows = total_rows + batch_rows
     where name = 'video_statistics';

    return jsonb_build_object(
        'status', 'ok',
        'rows', batch_rows,
        'videos', batch_videos,
        'late_videos', late_videos,
        'watermark', new_mark,
        'caught_up', new_mark >= safe_mark and not growth_pending,
        'growth_as_of', (select growth_as_of from analytics.read_model_state where name = 'video_statistics'),
        'growth_rebuilt', growth_rebuilt,
        'growth_rebuild_pending', growth_pending,
        'duration_ms', duration_ms);
end
$$;
comment on function analytics.refresh_materialized_views(integer) is
    'Incremental refresh of the video read model (one bounded step); returns a JSON summary.';

-- verify_read_model() as before, plus the views kind of the latest row and every campaign video's bounds.
create or replace function analytics.verify_read_model()
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
    with mark as (
        select watermark, growth_as_of from analytics.read_model_state where name = 'video_statistics'
    ), daily_ref as (
        select r.* from mark, analytics.video_daily_increments_upto(mark.watermark) r
    ), weekly_ref as (
        select r.* from mark, analytics.video_weekly_increments_upto(mark.watermark) r
    ), latest_ref as (
        select distinct on (s.video_id) s.video_id, s.external_video_id, s.id as statistics_id, s.created_at,
               s.views, s.likes, s.comments, s.reposts, s.saves, s.views_kind
          from analytics.video_statistics s, mark
         where s.id <= mark.watermark
         order by s.video_id, s.created_at desc, s.id desc
    ), latest_kept as (
        select video_id, external_video_id, statistics_id, created_at, views, likes, comments, reposts, saves,
               views_kind
          from analytics.video_latest_statistics
         where statistics_id is not null
    ), growth_ref as (
        -- Written as the definition reads, independently of the refresh's one-pass sums.
        select v.id as video_id, p.days as period_days,
               sum(d.views_delta)::bigint as views, sum(d.likes_delta)::bigint as likes,
               sum(d.comments_delta)::bigint as comments, sum(d.reposts_delta)::bigint as reposts,
               sum(d.saves_delta)::bigint as saves
          from mark
         cross join analytics.videos v
         cross join unnest(array[1, 7, 30]::smallint[]) p(days)
          left join daily_ref d
            on d.video_id = v.id and d.date between mark.growth_as_of - p.days + 1 and mark.growth_as_of
         group by v.id, p.days
    ), growth_kept as (
        select video_id, period_days, views, likes, comments, reposts, saves from analytics.video_growth
    ), bounds_cols as (
        select campaign_id, video_id, entry_at, exit_at, entry_day, last_day, entry_views, entry_likes,
               entry_comments, entry_reposts, entry_saves, entry_snapshots, last_views, last_likes, last_comments,
               last_reposts, last_saves, last_snapshots
          from analytics.campaign_video_bounds
    ), bounds_ref as (
        -- every membership's bounds computed now, from the snapshots up to the watermark
        select p.campaign_id, p.video_id, p.entry_at, p.exit_at,
               (p.entry_at at time zone 'UTC')::date as entry_day,
               ((p.exit_at - interval '1 microsecond') at time zone 'UTC')::date as last_day,
               e.views, e.likes, e.comments, e.reposts, e.saves, coalesce(e.snapshots, 0)::integer,
               l.views, l.likes, l.comments, l.reposts, l.saves, coalesce(l.snapshots, 0)::integer
          from mark,
               (select cv.campaign_id, cv.video_id, greatest(c.starts_at, cv.added_at) as entry_at,
                       c.ends_at as exit_at
                  from analytics.campaign_videos cv join analytics.campaigns c on c.id = cv.campaign_id) p
          left join lateral (
              select sum(x.views)::bigint as views, sum(x.likes)::bigint as likes,
                     sum(x.comments)::bigint as comments, sum(x.reposts)::bigint as reposts,
                     sum(x.saves)::bigint as saves, count(*) as snapshots
                from analytics.video_day_contributions(p.video_id, (p.entry_at at time zone 'UTC')::date,
                                                       mark.watermark) x
               where x.created_at > p.entry_at and (p.exit_at is null or x.created_at < p.exit_at)) e on true
          left join lateral (
              select sum(x.views)::bigint as views, sum(x.likes)::bigint as likes,
                     sum(x.comments)::bigint as comments, sum(x.reposts)::bigint as reposts,
                     sum(x.saves)::bigint as saves, count(*) as snapshots
                from analytics.video_day_contributions(
                         p.video_id, ((p.exit_at - interval '1 microsecond') at time zone 'UTC')::date,
                         mark.watermark) x
               where x.created_at < p.exit_at) l
            on ((p.exit_at - interval '1 microsecond') at time zone 'UTC')::date > (p.entry_at at time zone 'UTC')::date
    )
    select jsonb_build_object(
        'watermark', (select watermark from mark),
        'daily_rows', (select count(*) from analytics.mv_video_daily_increments),
        'daily_mismatches', (select count(*) from (
            (select * from analytics.mv_video_daily_increments except all select * from daily_ref)
            union all
            (select * from daily_ref except all select * from analytics.mv_video_daily_increments)) x),
        'weekly_rows', (select count(*) from analytics.mv_video_weekly_increments),
        'weekly_mismatches', (select count(*) from (
            (select * from analytics.mv_video_weekly_increments except all select * from weekly_ref)
            union all
            (select * from weekly_ref except all select * from analytics.mv_video_weekly_increments)) x),
        'latest_rows', (select count(*) from latest_kept),
        'latest_mismatches', (select count(*) from (
            (select * from latest_kept except all select * from latest_ref)
            union all
            (select * from latest_ref except all select * from latest_kept)) x),
        -- every video exactly once in the fast view
        'fast_view_mismatches', (select count(*) from (
            (select id from analytics.videos except all select id from analytics.videos_with_statistics_fast)
            union all
            (select id from analytics.videos_with_statistics_fast except all select id from analytics.videos)) x),
        'growth_as_of', (select growth_as_of from mark),
        'growth_rows', (select count(*) from growth_kept),
        'growth_mismatches', (select count(*) from (
            (select * from growth_kept except all select * from growth_ref)
            union all
            (select * from growth_ref except all select * from growth_kept)) x),
        'campaign_bounds_rows', (select count(*) from bounds_cols),
        'campaign_bounds_mismatches', (select count(*) from (
            (select * from bounds_cols except all select * from bounds_ref)
            union all
            (select * from bounds_ref except all select * from bounds_cols)) x))
$$;
comment on function analytics.verify_read_model() is
    'Compares the maintained read model with a full recompute up to its watermark; 0 mismatches = correct.';

-- ---- the read model under the new rules ------------------------------------------------------------------
-- Increments were 0 where they are now NULL: recompute them, the growth sums and the campaign bounds from the
-- snapshots the read model reflects (every snapshot so far counted views).
do $$
declare
    mark bigint := (select watermark from analytics.read_model_state where name = 'video_statistics');
begin
    delete from analytics.mv_video_daily_increments;
    insert into analytics.mv_video_daily_increments select * from analytics.video_daily_increments_upto(mark);
    delete from analytics.mv_video_weekly_increments;
    insert into analytics.mv_video_weekly_increments select * from analytics.video_weekly_increments_upto(mark);
    update analytics.video_latest_statistics set views_kind = 'views' where statistics_id is not null;
    perform analytics.rebuild_video_growth(coalesce(
        (select growth_as_of from analytics.read_model_state where name = 'video_statistics'),
        (now() at time zone 'UTC')::date));
    perform analytics.compute_campaign_video_bounds(array_agg(campaign_id), array_agg(video_id), mark, false)
       from analytics.campaign_videos;
end
$$;

-- ---- privileges ------------------------------------------------------------------------------------------
revoke all on function analytics.video_day_contributions(uuid, date, bigint) from public;
revoke all on function analytics.compute_campaign_video_bounds(uuid[], uuid[], bigint, boolean) from public;
revoke all on function analytics.campaign_videos_bounds_trigger() from public;
revoke all on function analytics.campaigns_bounds_trigger() from public;
revoke all on function analytics.campaign_video_days(uuid, date, date) from public;
revoke all on function analytics.campaign_video_growth(uuid, date, date) from public;
revoke all on function analytics.campaign_series(uuid, date, date, text) from public;
revoke all on function analytics.video_period_growth(uuid[], date, date) from public;
revoke all on function analytics.video_series(uuid, date, date, text) from public;
revoke all on function analytics.series_periods(date, date, text) from public;
revoke all on function analytics.resum_video_growth(date, uuid[]) from public;
revoke all on function analytics.refresh_materialized_views(integer) from public;
revoke all on function analytics.verify_read_model() from public;
revoke all on function analytics.video_daily_increments_upto(bigint) from public;

-- Readers (dashboard API, export) compute every figure through these definitions.
grant execute on function analytics.campaign_video_days(uuid, date, date),
    analytics.campaign_video_growth(uuid, date, date), analytics.campaign_series(uuid, date, date, text),
    analytics.video_period_growth(uuid[], date, date), analytics.video_series(uuid, date, date, text),
    analytics.series_periods(date, date, text)
    to vidstats_reader;
grant select on analytics.campaign_video_bounds, analytics.campaign_totals, analytics.blogger_totals
    to vidstats_reader;
grant select on analytics.campaign_video_bounds to vidstats_refresh;
