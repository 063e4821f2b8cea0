-- A campaign's daily growth kept by the refresh (issue 15: the campaign screen interactive in <= 1 s with 50k
-- videos and 5M snapshots).
--
-- Measured (EXPLAIN ANALYZE, BUFFERS; 10k videos x 100 days, a campaign of 5,000 videos over 100 days): the
-- campaign screen's figures (its growth and its daily series; it shows no per-video row of the analytics)
-- summed the campaign's 500k counted video-days at request time: campaign_figures() 590 ms without per-video
-- rows, 1,130 ms with them, of which the 500k index-scanned daily rows themselves about 220 ms and the rest
-- their materialization (campaign_video_days() is not inlined: it sets its search_path) and aggregation.
-- A campaign's growth and series are sums over its days, so they are kept per (campaign, UTC day):
--
--   campaign_daily_growth: per campaign and day, the sum of campaign_video_days() (THE definition of every
--     campaign figure) over the campaign's videos: written only from that function's rows;
--   campaign_daily_growth_state: per campaign, marks = 0 when its rows are current; writers that change what
--     the definition gives without the refresh (membership added, changed or removed; the campaign's window
--     moved; a retention swap recounting a month's snapshots) add a mark in their own transaction, and the
--     next refresh recomputes the campaign and clears the marks it saw (a mark added meanwhile stays).
--
-- campaign_figures() reads the rollup in place of the campaign's video-days when no per-video row is asked
-- (p_videos false: the campaign list, the screen's figures, a share link's figures), the campaign's rows are
-- current and the caller may see every video of the campaign; its sums are then the same sums over the same
-- days (the rollup's days are the definition's days summed over videos first). Readers are never blocked: the
-- refresh writes the rows in its own transaction, with the daily rows they sum.
--
-- Kept by analytics.refresh_materialized_views(), which wraps the former entry point (renamed
-- refresh_read_model_relations) and, after it in the same transaction:
--   - an incremental step: recomputes, for each current campaign with a video whose snapshots the step
--     reflected, its days from the first day those snapshots (late ones included) can change;
--   - a bulk catch-up under way: marks every campaign (its chunks rewrite daily rows video by video), and the
--     last chunk's call recomputes them all;
--   - then marked campaigns in full (about a million video-days of them per step).

create table analytics.campaign_daily_growth (
    campaign_id uuid not null references analytics.campaigns (id) on delete cascade,
    date        date not null,
    views       bigint,
    likes       bigint,
    comments    bigint,
    reposts     bigint,
    saves       bigint,
    snapshots   bigint not null,
    primary key (campaign_id, date)
);
comment on table analytics.campaign_daily_growth is
    'Per campaign and UTC day: the sum of campaign_video_days() over the campaign''s videos (NULL: nothing '
    'measured); kept by analytics.refresh_materialized_views(), current when campaign_daily_growth_state says so.';

create table analytics.campaign_daily_growth_state (
    campaign_id uuid primary key references analytics.campaigns (id) on delete cascade,
    marks       bigint not null default 0 check (marks >= 0)
);
comment on table analytics.campaign_daily_growth_state is
    'Per campaign: 0 when campaign_daily_growth holds its current days; else the number of changes since '
    '(writers add them, the refresh clears the ones it recomputed).';

-- How many video-days of marked campaigns a refresh step recomputes (at least one campaign): at 5,000 videos x
-- 100 days, 0.44 s.
alter table analytics.read_model_state
    add column campaign_days_per_step integer not null default 1000000 check (campaign_days_per_step > 0);
comment on column analytics.read_model_state.campaign_days_per_step is
    'A refresh step recomputes marked campaigns'' daily growth up to about this many video-days (at least one).';

-- Every campaign starts marked: the first refresh after this migration computes them.
insert into analytics.campaign_daily_growth_state (campaign_id, marks) select id, 1 from analytics.campaigns;

-- Marks, by writers (security definer: the reader and the ingest have no grant on the state).
create function analytics.mark_campaign_daily_growth(p_campaign_ids uuid[])
returns void
language sql
volatile
security definer
set search_path = ''
as $$
    insert into analytics.campaign_daily_growth_state as s (campaign_id, marks)
    select c.id, 1 from analytics.campaigns c  -- (a campaign deleted in this statement has no state to mark)
     where c.id = any(p_campaign_ids)
     order by c.id  -- one lock order for concurrent writers
    on conflict (campaign_id) do update set marks = s.marks + 1
$$;
comment on function analytics.mark_campaign_daily_growth(uuid[]) is
    'Marks campaigns whose campaign_daily_growth no longer follows from the definition until the next refresh.';

create function analytics.campaign_videos_daily_growth_trigger()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if tg_op = 'DELETE' then
        perform analytics.mark_campaign_daily_growth(array(select distinct o.campaign_id from changed_rows o));
    else
        perform analytics.mark_campaign_daily_growth(array(select distinct n.campaign_id from changed_rows n));
    end if;
    return null;
end
$$;
create trigger campaign_videos_daily_growth_on_insert
    after insert on analytics.campaign_videos
    referencing new table as changed_rows
    for each statement execute function analytics.campaign_videos_daily_growth_trigger();
create trigger campaign_videos_daily_growth_on_update
    after update on analytics.campaign_videos
    referencing new table as changed_rows
    for each statement execute function analytics.campaign_videos_daily_growth_trigger();
create trigger campaign_videos_daily_growth_on_delete
    after delete on analytics.campaign_videos
    referencing old table as changed_rows
    for each statement execute function analytics.campaign_videos_daily_growth_trigger();

-- A new campaign has no video: its (empty) rollup is current at once. A moved window changes every video's days.
create function analytics.campaigns_daily_growth_trigger()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if tg_op = 'INSERT' then
        insert into analytics.campaign_daily_growth_state (campaign_id, marks)
        select n.id, 0 from new_campaigns n
        on conflict (campaign_id) do nothing;
    else
        perform analytics.mark_campaign_daily_growth(array(
            select n.id from new_campaigns n join old_campaigns o on o.id = n.id
             where (n.starts_at, n.ends_at) is distinct from (o.starts_at, o.ends_at)));
    end if;
    return null;
end
$$;
create trigger campaigns_daily_growth_on_insert
    after insert on analytics.campaigns
    referencing new table as new_campaigns
    for each statement execute function analytics.campaigns_daily_growth_trigger();
create trigger campaigns_daily_growth_on_update
    after update on analytics.campaigns
    referencing old table as old_campaigns new table as new_campaigns
    for each statement execute function analytics.campaigns_daily_growth_trigger();

-- Retention's swap recounts a month's daily snapshot counts (and records the compaction in the same
-- transaction): every campaign's counts may change.
create function analytics.compactions_daily_growth_trigger()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform analytics.mark_campaign_daily_growth(array(select c.id from analytics.campaigns c));
    return null;
end
$$;
create trigger video_statistics_compactions_daily_growth
    after insert or update on analytics.video_statistics_compactions
    for each statement execute function analytics.compactions_daily_growth_trigger();

-- The refresh's part: recompute campaigns' days from the definition. p_from_days: per campaign, the first day
-- to recompute (NULL: all of them).
create function analytics.recompute_campaign_daily_growth(p_campaign_ids uuid[], p_from_days date[])
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    written bigint;
begin
    delete from analytics.campaign_daily_growth g
     using unnest(p_campaign_ids, p_from_days) k(campaign_id, from_day)
     where g.campaign_id = k.campaign_id and (k.from_day is null or g.date >= k.from_day);
    insert into analytics.campaign_daily_growth (campaign_id, date, views, likes, comments, reposts, saves, snapshots)
    select k.campaign_id, d.date, sum(d.views)::bigint, sum(d.likes)::bigint, sum(d.comments)::bigint,
           sum(d.reposts)::bigint, sum(d.saves)::bigint, sum(d.snapshots)::bigint
      from unnest(p_campaign_ids, p_from_days) k(campaign_id, from_day)
     cross join lateral analytics.campaign_video_days(k.campaign_id, k.from_day, null) d
     group by k.campaign_id, d.date
     order by 1, 2;
    get diagnostics written = row_count;
    return written;
end
$$;
comment on function analytics.recompute_campaign_daily_growth(uuid[], date[]) is
    'Writes campaign_daily_growth of the given campaigns from campaign_video_days(), from the given days on.';

-- The former entry point keeps its body.
alter function analytics.refresh_materialized_views(integer) rename to refresh_read_model_relations;
revoke all on function analytics.refresh_read_model_relations(integer) from public, vidstats_refresh;
comment on function analytics.refresh_read_model_relations(integer) is
    'One bounded step of the per-video read model (called by analytics.refresh_materialized_views()).';

create function analytics.refresh_materialized_views(p_max_rows integer default 100000)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    old_mark   bigint;
    state      analytics.read_model_state%rowtype;
    result     jsonb;
    t          timestamptz;
    touched    record;
    stale      record;
    rows_written bigint := 0;
begin
    if not pg_try_advisory_xact_lock(hashtext('analytics.refresh_materialized_views')) then
        return jsonb_build_object('status', 'busy', 'caught_up', false,
                                  'message', 'another refresh is running; this call did nothing');
    end if;
    select watermark into old_mark from analytics.read_model_state where name = 'video_statistics';
    result := analytics.refresh_read_model_relations(p_max_rows);
    if result ->> 'status' is distinct from 'ok' then
        return result;
    end if;
    t := clock_timestamp();
    select * into state from analytics.read_model_state where name = 'video_statistics';

    if state.bulk_target is not null then
        -- A bulk catch-up under way: its chunks rewrite daily rows video by video; the campaigns are
        -- recomputed with its last chunk. (Written once: the marks of the first chunk's call.)
        update analytics.campaign_daily_growth_state set marks = marks + 1 where marks = 0;
    elsif coalesce((result ->> 'bulk')::boolean, false) then
        update analytics.campaign_daily_growth_state set marks = marks + 1 where marks = 0;
    elsif state.watermark > old_mark and exists (select 1 from analytics.campaign_video_bounds) then
        -- An incremental step: each current campaign with a video whose snapshots it reflected, from the first
        -- day they can change (a late snapshot changes its day and the ones after it; the video's bounds
        -- were recomputed by the step from the same day on).
        select array_agg(x.campaign_id order by x.campaign_id) as ids,
               array_agg(x.from_day order by x.campaign_id) as days
          into touched
          from (select b.campaign_id, min(greatest(b.entry_day, v.first_day)) as from_day
                  from (select s.video_id, (min(s.created_at) at time zone 'UTC')::date as first_day
                          from analytics.video_statistics s
                         where s.id > old_mark and s.id <= state.watermark
                         group by s.video_id) v
                  join analytics.campaign_video_bounds b on b.video_id = v.video_id
                  join analytics.campaign_daily_growth_state g on g.campaign_id = b.campaign_id and g.marks = 0
                 where b.last_day is null or b.last_day >= v.first_day
                 group by b.campaign_id) x;
        if touched.ids is not null then
            rows_written := rows_written + analytics.recompute_campaign_daily_growth(touched.ids, touched.days);
        end if;
    end if;

    if state.bulk_target is null then
        -- Marked campaigns in full, about campaign_days_per_step of their video-days per step (at least one
        -- campaign): a step stays bounded after a retention swap or a bulk catch-up marked every campaign, and
        -- the others stay marked (read from their video-days) until a later step. The marks seen are cleared
        -- (one added meanwhile keeps the campaign marked).
        select array_agg(x.campaign_id order by x.campaign_id) as ids, array_agg(x.marks order by x.campaign_id) as marks
          into stale
          from (select m.campaign_id, m.marks,
                       coalesce(sum(m.video_days) over (order by m.campaign_id rows between unbounded preceding
                                                        and 1 preceding), 0) as before_it
                  from (select s.campaign_id, s.marks,
                               (select coalesce(sum(greatest(0, coalesce(b.last_day, current_date) - b.entry_day + 1)), 0)
                                  from analytics.campaign_video_bounds b where b.campaign_id = s.campaign_id)
                                   as video_days
                          from analytics.campaign_daily_growth_state s where s.marks > 0) m) x
         where x.before_it < state.campaign_days_per_step;
        if stale.ids is not null then
            rows_written := rows_written + analytics.recompute_campaign_daily_growth(
                stale.ids, array_fill(null::date, array[cardinality(stale.ids)]));
            update analytics.campaign_daily_growth_state s
               set marks = 0
              from unnest(stale.ids, stale.marks) m(campaign_id, marks)
             where s.campaign_id = m.campaign_id and s.marks = m.marks;
        end if;
    end if;

    return result
        || jsonb_build_object('campaign_daily_rows', rows_written)
        || jsonb_build_object('steps_ms', coalesce(result -> 'steps_ms', '{}'::jsonb)
                                          || jsonb_build_object('campaign_daily', analytics.ms_since(t)));
end
$$;
comment on function analytics.refresh_materialized_views(integer) is
    'One bounded step of the read model''s refresh (a bulk chunk when catching up a large backlog, else '
    'incremental), then the campaigns'' daily growth it changed; returns a JSON summary.';

-- Whether a campaign's kept days are current and may be read whole by the caller, and those days. Security
-- definer: the reader and a share link's reader have no grant on the relations; they read them through these
-- two only when row-level security would show them every video of the campaign, checked as
-- viewer_campaign_figures() checks it (the role of the transaction: a definer keeps it), so that the sums of the
-- kept days are exactly what they may see. The export reads every workspace; the owner (no SET ROLE) too.
create function analytics.campaign_days_kept(p_campaign_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select exists (
        select 1
          from analytics.campaign_daily_growth_state s
          join analytics.campaigns c on c.id = s.campaign_id
         where s.campaign_id = p_campaign_id and s.marks = 0
           and case current_setting('role', true)
                   when 'vidstats_reader' then
                       c.workspace_id = (select analytics.current_workspace_id())
                       and not exists (select 1 from analytics.campaign_videos cv
                                        where cv.campaign_id = c.id
                                          and not exists (select 1 from analytics.workspace_videos wv
                                                           where wv.workspace_id = c.workspace_id
                                                             and wv.video_id = cv.video_id))
                   when 'vidstats_share' then c.id = (select analytics.current_share_campaign_id())
                   when 'vidstats_export' then true
                   when 'none' then true
                   else false
               end)
$$;
comment on function analytics.campaign_days_kept(uuid) is
    'True when campaign_daily_growth holds the campaign''s current days and the caller may read all of them.';

create function analytics.campaign_kept_days(p_campaign_id uuid, p_from date, p_to date)
returns table (date date, views bigint, likes bigint, comments bigint, reposts bigint, saves bigint,
               snapshots bigint)
language sql
stable
security definer
set search_path = ''
as $$
    select g.date, g.views, g.likes, g.comments, g.reposts, g.saves, g.snapshots
      from analytics.campaign_daily_growth g
     where g.campaign_id = p_campaign_id
       and g.date >= coalesce(p_from, '-infinity'::date) and g.date <= coalesce(p_to, 'infinity'::date)
       and analytics.campaign_days_kept(p_campaign_id)
$$;
comment on function analytics.campaign_kept_days(uuid, date, date) is
    'The campaign''s kept days in [p_from, p_to] (NULL: unbounded), when campaign_days_kept(); else none.';

-- campaign_figures(): the campaign's days from the kept ones when no per-video row is asked and they are
-- current and readable whole by the caller (the dashboard's reads through viewer_campaign_figures(), the
-- export); otherwise its video-days as before.
create or replace function analytics.campaign_figures(p_campaign_id uuid, p_from date, p_to date, p_bucket text,
                                                     p_videos boolean)
returns table (
    kind text, video_id uuid, counted_from date, counted_to date, period_start date, period_end date,
    views bigint, likes bigint, comments bigint, reposts bigint, saves bigint, snapshots bigint
)
language sql
stable
set search_path = ''
as $$
    with rollup as materialized (
        select not p_videos and analytics.campaign_days_kept(p_campaign_id) as used
    ), days as (  -- the campaign's counted days: per video, or (kept) summed over its videos
        select d.video_id, d.date, d.views, d.likes, d.comments, d.reposts, d.saves, d.snapshots::bigint as snapshots
          from analytics.campaign_video_days(p_campaign_id, p_from, p_to) d
         where not (select r.used from rollup r)
        union all
        select null, g.date, g.views, g.likes, g.comments, g.reposts, g.saves, g.snapshots
          from analytics.campaign_kept_days(p_campaign_id, p_from, p_to) g
         where (select r.used from rollup r)
    ), sums as (  -- read once and summed three ways in one pass
        select grouping(d.video_id, p.period_start) as set_id,  -- 1: per video, 2: per point, 3: the campaign
               d.video_id, p.period_start,
               sum(d.views)::bigint as views, sum(d.likes)::bigint as likes, sum(d.comments)::bigint as comments,
               sum(d.reposts)::bigint as reposts, sum(d.saves)::bigint as saves,
               sum(d.snapshots)::bigint as snapshots
          from days d
         -- each counted day falls in the point starting on its day, or on its week's first day
         cross join lateral (select case when p_bucket = 'week' then greatest(date_trunc('week', d.date)::date, p_from)
                                         else d.date end as period_start) p
         group by grouping sets ((d.video_id), (p.period_start), ())
    )
    select 'campaign', null::uuid, null::date, null::date, null::date, null::date,
           s.views, s.likes, s.comments, s.reposts, s.saves, coalesce(s.snapshots, 0)::bigint
      from (values (3)) one (set_id)
      left join sums s on s.set_id = one.set_id
    union all
    select 'video', b.video_id,
           case when r.first_day <= r.last_day then r.first_day end,
           case when r.first_day <= r.last_day then r.last_day end,
           null, null, g.views, g.likes, g.comments, g.reposts, g.saves, coalesce(g.snapshots, 0)
      from analytics.campaign_video_bounds b
     cross join lateral (select greatest(b.entry_day, p_from) as first_day, least(b.last_day, p_to) as last_day) r
      left join sums g on g.set_id = 1 and g.video_id = b.video_id
     where p_videos and b.campaign_id = p_campaign_id
    union all
    select 'point', null, null, null, p.period_start, p.period_end, s.views, s.likes, s.comments, s.reposts,
           s.saves, coalesce(s.snapshots, 0)
      from analytics.series_periods(p_from, p_to, p_bucket) p
      left join sums s on s.set_id = 2 and s.period_start = p.period_start
     where p_bucket is not null
$$;

-- verify: the rollup of current campaigns against the definition's sums: every one, those holding any of
-- p_video_ids, or p_campaigns random ones (verify --sample).
create function analytics.verify_campaign_daily_growth(p_video_ids uuid[] default null,
                                                       p_campaigns integer default null)
returns jsonb
language sql
volatile
security definer
set search_path = ''
as $$
    with current_campaigns as (
        select s.campaign_id from analytics.campaign_daily_growth_state s
         where s.marks = 0
           and (p_video_ids is null or exists (select 1 from analytics.campaign_videos cv
                                                where cv.campaign_id = s.campaign_id
                                                  and cv.video_id = any(p_video_ids)))
    ), checked as materialized (
        select c.campaign_id from current_campaigns c
         order by case when p_campaigns is null then 0 else random() end
         limit p_campaigns
    ), kept as (
        select g.campaign_id, g.date, g.views, g.likes, g.comments, g.reposts, g.saves, g.snapshots
          from checked c join analytics.campaign_daily_growth g on g.campaign_id = c.campaign_id
    ), ref as (
        select c.campaign_id, d.date, sum(d.views)::bigint, sum(d.likes)::bigint, sum(d.comments)::bigint,
               sum(d.reposts)::bigint, sum(d.saves)::bigint, sum(d.snapshots)::bigint
          from checked c cross join lateral analytics.campaign_video_days(c.campaign_id, null, null) d
         group by c.campaign_id, d.date
    )
    select jsonb_build_object(
        'campaign_daily_campaigns', (select count(*) from checked),
        'campaign_daily_rows', (select count(*) from kept),
        'campaign_daily_mismatches',
            (select count(*) from (select * from kept except all select * from ref) x)
            + (select count(*) from (select * from ref except all select * from kept) y))
$$;
comment on function analytics.verify_campaign_daily_growth(uuid[], integer) is
    'campaign_daily_growth of current campaigns (all, those holding the given videos, or p_campaigns random '
    'ones) against a recompute from campaign_video_days(): campaigns and rows checked, rows that differ.';

-- Grants and row-level security as the neighbouring read-model relations: the refresh and the export read every
-- row (their policies); the dashboard's roles read them only through the two functions above.
alter table analytics.campaign_daily_growth enable row level security;
alter table analytics.campaign_daily_growth_state enable row level security;
create policy campaign_daily_growth_refresh_select on analytics.campaign_daily_growth
    for select to vidstats_refresh using (true);
create policy campaign_daily_growth_export_select on analytics.campaign_daily_growth
    for select to vidstats_export using (true);
create policy campaign_daily_growth_state_refresh_select on analytics.campaign_daily_growth_state
    for select to vidstats_refresh using (true);
create policy campaign_daily_growth_state_export_select on analytics.campaign_daily_growth_state
    for select to vidstats_export using (true);
grant select on analytics.campaign_daily_growth, analytics.campaign_daily_growth_state
    to vidstats_refresh, vidstats_export;

revoke execute on function analytics.campaign_days_kept(uuid) from public;
revoke execute on function analytics.campaign_kept_days(uuid, date, date) from public;
grant execute on function analytics.campaign_days_kept(uuid), analytics.campaign_kept_days(uuid, date, date)
    to vidstats_reader, vidstats_share, vidstats_export;
revoke execute on function analytics.mark_campaign_daily_growth(uuid[]) from public;
revoke execute on function analytics.campaign_videos_daily_growth_trigger() from public;
revoke execute on function analytics.campaigns_daily_growth_trigger() from public;
revoke execute on function analytics.compactions_daily_growth_trigger() from public;
revoke execute on function analytics.recompute_campaign_daily_growth(uuid[], date[]) from public;
revoke execute on function analytics.refresh_materialized_views(integer) from public;
grant execute on function analytics.refresh_materialized_views(integer) to vidstats_refresh;
revoke execute on function analytics.verify_campaign_daily_growth(uuid[], integer) from public;
grant execute on function analytics.verify_campaign_daily_growth(uuid[], integer) to vidstats_refresh;
