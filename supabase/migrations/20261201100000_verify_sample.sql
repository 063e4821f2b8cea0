-- `vidstats verify --sample N`: the full verify_read_model() reads the whole history; this one checks every
-- read-model row of N videos (daily and weekly increments, the latest row, growth, campaign bounds) against a
-- recompute from those videos' snapshots only, through the (video_id, created_at, id) index: its cost is the
-- sampled videos' rows, whatever the size of the table.

-- The reference daily increments (video_daily_increments_upto, same rules, same text) of the given videos
-- only. The window partitions are per video, so filtering before them changes nothing for those videos;
-- a test compares it with the reference for every video of a rich history.
create function analytics.video_daily_increments_of(p_video_ids uuid[], p_max_id bigint)
returns table (
    video_id uuid, external_video_id text, date date, views_delta bigint, likes_delta bigint,
    comments_delta bigint, reposts_delta bigint, saves_delta bigint, snapshots integer
)
language sql
stable
set search_path = ''
as $$
    with split as (
        select s.video_id, s.external_video_id, s.id, s.created_at,
               case when s.views_kind = 'views' then s.views end as views,
               case when s.views_kind = 'plays' then s.views end as plays,
               s.likes, s.comments, s.reposts, s.saves
          from analytics.video_statistics s
         where s.video_id = any(p_video_ids) and (p_max_id is null or s.id <= p_max_id)
    ), numbered as (
        select s.*,
               count(s.views) over w as views_run, count(s.plays) over w as plays_run,
               count(s.likes) over w as likes_run, count(s.comments) over w as comments_run,
               count(s.reposts) over w as reposts_run, count(s.saves) over w as saves_run
          from split s
        window w as (partition by s.video_id order by s.created_at, s.id)
    ), carried as (
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
comment on function analytics.video_daily_increments_of(uuid[], bigint) is
    'video_daily_increments_upto() restricted to the given videos (read through the per-video index).';

-- Up to p_sample distinct videos picked at random. A large table is probed at random uuids through the primary
-- key (N index probes, no scan; video ids are random uuids, so the pick is close to uniform); a table not much
-- larger than the sample is shuffled whole.
create function analytics.sample_videos(p_sample integer)
returns uuid[]
language plpgsql
volatile
set search_path = ''
as $$
declare
    picked  uuid[] := '{}';
    probe   uuid;
    point   uuid;
    tries   integer := 0;
    estimate real := (select c.reltuples from pg_catalog.pg_class c where c.oid = 'analytics.videos'::regclass);
begin
    if p_sample is null or p_sample < 1 then
        raise exception 'the sample must be at least 1 video, got %', p_sample using errcode = '22023';
    end if;
    if estimate < 0 or estimate <= p_sample * 4 then  -- never analyzed, or small: shuffle it whole
        return array(select v.id from analytics.videos v order by random() limit p_sample);
    end if;
    while cardinality(picked) < p_sample and tries < p_sample * 4 loop
        tries := tries + 1;
        -- a variable, not gen_random_uuid() in the WHERE clause: a volatile call there is evaluated per row
        -- (a scan, and a pick biased to the smallest ids); a value is one index probe
        point := gen_random_uuid();
        select v.id into probe from analytics.videos v where v.id >= point order by v.id limit 1;
        if probe is null then  -- past the last id: wrap around
            select v.id into probe from analytics.videos v order by v.id limit 1;
        end if;
        if probe is not null and not probe = any(picked) then
            picked := picked || probe;
        end if;
    end loop;
    return picked;
end
$$;
comment on function analytics.sample_videos(integer) is
    'Up to p_sample distinct random video ids, by index probes (no scan of a large videos table).';

-- verify_read_model()'s checks, restricted to the given videos (p_video_ids), or to p_sample random ones.
-- Same keys, plus the number of videos checked and the ids of those with a mismatch.
create function analytics.verify_read_model_sample(p_sample integer default 100, p_video_ids uuid[] default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    ids    uuid[];
    result jsonb;
begin
    ids := array(select distinct u from unnest(coalesce(p_video_ids, analytics.sample_videos(p_sample))) u
                  where u is not null);
    with mark as (
        select watermark, growth_as_of from analytics.read_model_state where name = 'video_statistics'
    ), daily_ref as (
        select r.* from mark, analytics.video_daily_increments_of(ids, mark.watermark) r
    ), daily_kept as (
        select d.* from analytics.mv_video_daily_increments d where d.video_id = any(ids)
    ), weekly_ref as (
        select d.video_id, max(d.external_video_id) as external_video_id, date_trunc('week', d.date)::date,
               sum(d.views_delta)::bigint, sum(d.likes_delta)::bigint, sum(d.comments_delta)::bigint,
               sum(d.reposts_delta)::bigint, sum(d.saves_delta)::bigint, sum(d.snapshots)::integer
          from daily_ref d
         group by d.video_id, date_trunc('week', d.date)::date
    ), weekly_kept as (
        select w.* from analytics.mv_video_weekly_increments w where w.video_id = any(ids)
    ), latest_ref as (
        select s.video_id, s.external_video_id, s.id as statistics_id, s.created_at,
               s.views, s.likes, s.comments, s.reposts, s.saves, s.views_kind
          from mark, unnest(ids) v(id)
         cross join lateral (
               select x.* from analytics.video_statistics x
                where x.video_id = v.id and x.id <= mark.watermark
                order by x.created_at desc, x.id desc limit 1) s
    ), latest_kept as (
        select video_id, external_video_id, statistics_id, created_at, views, likes, comments, reposts, saves,
               views_kind
          from analytics.video_latest_statistics
         where statistics_id is not null and video_id = any(ids)
    ), growth_ref as (
        select v.id as video_id, p.days as period_days,
               sum(d.views_delta)::bigint as views, sum(d.likes_delta)::bigint as likes,
               sum(d.comments_delta)::bigint as comments, sum(d.reposts_delta)::bigint as reposts,
               sum(d.saves_delta)::bigint as saves
          from mark
         cross join analytics.videos v
         cross join unnest(array[1, 7, 30]::smallint[]) p(days)
          left join daily_ref d
            on d.video_id = v.id and d.date between mark.growth_as_of - p.days + 1 and mark.growth_as_of
         where v.id = any(ids)
         group by v.id, p.days
    ), growth_kept as (
        select video_id, period_days, views, likes, comments, reposts, saves
          from analytics.video_growth where video_id = any(ids)
    ), bounds_kept as (
        select campaign_id, video_id, entry_at, exit_at, entry_day, last_day, entry_views, entry_likes,
               entry_comments, entry_reposts, entry_saves, entry_snapshots, last_views, last_likes, last_comments,
               last_reposts, last_saves, last_snapshots
          from analytics.campaign_video_bounds where video_id = any(ids)
    ), bounds_ref as (
        select p.campaign_id, p.video_id, p.entry_at, p.exit_at,
               (p.entry_at at time zone 'UTC')::date as entry_day,
               ((p.exit_at - interval '1 microsecond') at time zone 'UTC')::date as last_day,
               e.views, e.likes, e.comments, e.reposts, e.saves, coalesce(e.snapshots, 0)::integer,
               l.views, l.likes, l.comments, l.reposts, l.saves, coalesce(l.snapshots, 0)::integer
          from mark,
               (select cv.campaign_id, cv.video_id, greatest(c.starts_at, cv.added_at) as entry_at,
                       c.ends_at as exit_at
                  from analytics.campaign_videos cv join analytics.campaigns c on c.id = cv.campaign_id
                 where cv.video_id = any(ids)) p
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
    ), daily_diff as (
        (select video_id from (select * from daily_kept except all select * from daily_ref) x)
        union all
        (select video_id from (select * from daily_ref except all select * from daily_kept) x)
    ), weekly_diff as (
        (select video_id from (select * from weekly_kept except all select * from weekly_ref) x)
        union all
        (select video_id from (select * from weekly_ref except all select * from weekly_kept) x)
    ), latest_diff as (
        (select video_id from (select * from latest_kept except all select * from latest_ref) x)
        union all
        (select video_id from (select * from latest_ref except all select * from latest_kept) x)
    ), fast_diff as (
        -- every sampled video that exists is in the fast view exactly once
        select v.id as video_id
          from analytics.videos v
         where v.id = any(ids)
           and (select count(*) from analytics.videos_with_statistics_fast f where f.id = v.id) <> 1
    ), growth_diff as (
        (select video_id from (select * from growth_kept except all select * from growth_ref) x)
        union all
        (select video_id from (select * from growth_ref except all select * from growth_kept) x)
    ), bounds_diff as (
        (select video_id from (select * from bounds_kept except all select * from bounds_ref) x)
        union all
        (select video_id from (select * from bounds_ref except all select * from bounds_kept) x)
    )
    select jsonb_build_object(
        'watermark', (select watermark from mark),
        'sampled_videos', cardinality(ids),
        'daily_rows', (select count(*) from daily_kept),
        'daily_mismatches', (select count(*) from daily_diff),
        'weekly_rows', (select count(*) from weekly_kept),
        'weekly_mismatches', (select count(*) from weekly_diff),
        'latest_rows', (select count(*) from latest_kept),
        'latest_mismatches', (select count(*) from latest_diff),
        'fast_view_mismatches', (select count(*) from fast_diff),
        'growth_as_of', (select growth_as_of from mark),
        'growth_rows', (select count(*) from growth_kept),
        'growth_mismatches', (select count(*) from growth_diff),
        'campaign_bounds_rows', (select count(*) from bounds_kept),
        'campaign_bounds_mismatches', (select count(*) from bounds_diff),
        'mismatched_videos', coalesce((select jsonb_agg(distinct x.video_id order by x.video_id) from (
            select video_id from daily_diff union select video_id from weekly_diff
            union select video_id from latest_diff union select video_id from fast_diff
            union select video_id from growth_diff union select video_id from bounds_diff) x), '[]'::jsonb))
      into result;
    return result;
end
$$;
comment on function analytics.verify_read_model_sample(integer, uuid[]) is
    'verify_read_model() for p_sample random videos (or the given ones): every read-model row of those videos '
    'against a recompute from their snapshots, index-driven; 0 mismatches = correct for them.';

revoke all on function analytics.video_daily_increments_of(uuid[], bigint) from public;
revoke all on function analytics.sample_videos(integer) from public;
revoke all on function analytics.verify_read_model_sample(integer, uuid[]) from public;
grant execute on function analytics.video_daily_increments_of(uuid[], bigint) to vidstats_refresh;
grant execute on function analytics.sample_videos(integer) to vidstats_refresh;
grant execute on function analytics.verify_read_model_sample(integer, uuid[]) to vidstats_refresh;
