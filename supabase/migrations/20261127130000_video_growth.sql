-- Growth per video over the last 1, 7 and 30 UTC days, precomputed for the dashboard's growth sort
-- (GET /videos?sort=growth): summing a period's daily increments for every video at read time costs a pass
-- over all of them per request; with the sums kept here a page is read off an index in order, like the
-- sorts by a total.
--
-- Semantics: the row (video, p) holds, for each metric, the sum of the video's daily increments
-- (mv_video_daily_increments) over the UTC days [as_of - p + 1, as_of], 0 without any, where as_of is
-- read_model_state.growth_as_of: the UTC day of the refresh that last moved it. The refresh maintains both
-- in the same transaction as the daily increments they sum, so readers never see them disagree.

-- Long shape: one row per (video, period), so one index per metric serves all three periods; a wide row
-- (15 sums) would need 15 indexes, each updated whenever a video grows.
create table analytics.video_growth (
    video_id    uuid not null references analytics.videos (id) on delete cascade,
    period_days smallint not null check (period_days in (1, 7, 30)),
    views       bigint not null default 0,
    likes       bigint not null default 0,
    comments    bigint not null default 0,
    reposts     bigint not null default 0,
    saves       bigint not null default 0,
    -- video first: a video's three rows sit together (the refresh updates them together), and the foreign
    -- key's cascade finds them by index.
    primary key (video_id, period_days)
);
comment on table analytics.video_growth is
    'Sum of daily increments per video over the last 1, 7 and 30 UTC days ending on '
    'read_model_state.growth_as_of; maintained by analytics.refresh_materialized_views().';
-- The growth sort, "sum desc, id asc" within one period, walks these in order and stops after a page.
create index video_growth_views_idx on analytics.video_growth (period_days, views desc, video_id);
create index video_growth_likes_idx on analytics.video_growth (period_days, likes desc, video_id);
create index video_growth_comments_idx on analytics.video_growth (period_days, comments desc, video_id);
create index video_growth_reposts_idx on analytics.video_growth (period_days, reposts desc, video_id);
create index video_growth_saves_idx on analytics.video_growth (period_days, saves desc, video_id);

alter table analytics.read_model_state
    add column growth_as_of date,
    add column growth_rebuild_day date,
    add column growth_rebuild_after uuid,
    add column growth_rebuild_batch integer not null default 20000 check (growth_rebuild_batch > 0);
comment on column analytics.read_model_state.growth_as_of is
    'The UTC day video_growth''s periods end on; a reader asking for another day sums daily increments.';
comment on column analytics.read_model_state.growth_rebuild_day is
    'A new day''s rebuild of video_growth in progress (one chunk of videos per refresh step): its day, and '
    'growth_rebuild_after the last video id done. growth_as_of moves to that day with the last chunk.';

-- A new video gets its three rows (zeros: no increments yet) at once, in the writer's transaction, as it gets
-- its video_latest_statistics row: the growth sort lists it immediately and the refresh only updates rows.
-- One insert per statement over the inserted rows (a transition table), not one per row: bulk inserts of
-- videos stay a set operation.
create function analytics.add_video_growth_rows()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into analytics.video_growth (video_id, period_days)
    select n.id, p.days from new_videos n cross join unnest(array[1, 7, 30]::smallint[]) p(days);
    return null;
end
$$;
create trigger videos_add_growth_rows
    after insert on analytics.videos
    referencing new table as new_videos
    for each statement execute function analytics.add_video_growth_rows();

-- The growth of the given videos for the periods ending on p_as_of, summed from their daily increments. Upserts, row by row: readers are never blocked; rows whose sums
-- did not change are left alone. Used for a new day's rebuild (chunk by chunk), for videos whose earlier days
-- were rewritten by late snapshots, and by rebuild_video_growth().
create function analytics.resum_video_growth(p_as_of date, p_video_ids uuid[])
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
    select v.id, p.days, coalesce(p.views, 0), coalesce(p.likes, 0), coalesce(p.comments, 0),
           coalesce(p.reposts, 0), coalesce(p.saves, 0)
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
comment on function analytics.resum_video_growth(date, uuid[]) is
    'Recomputes video_growth of the given videos for the periods ending on p_as_of; returns the rows changed.';

-- Every video's growth for the periods ending on p_as_of, at once, and p_as_of recorded as the as-of day. For
-- the migration and for tests and benchmarks setting up another day; the refresh rebuilds chunk by chunk.
create function analytics.rebuild_video_growth(p_as_of date)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
    changed_rows bigint;
begin
    changed_rows := analytics.resum_video_growth(p_as_of, array(select id from analytics.videos));
    update analytics.read_model_state
       set growth_as_of = p_as_of, growth_rebuild_day = null, growth_rebuild_after = null
     where name = 'video_statistics';
    return changed_rows;
end
$$;
comment on function analytics.rebuild_video_growth(date) is
    'Recomputes video_growth for every video for the periods ending on p_as_of; returns the rows it changed.';

-- Existing videos: their rows, for today.
select analytics.rebuild_video_growth((now() at time zone 'UTC')::date);

-- refresh_materialized_views() as in 20261127090000_read_model.sql, plus the growth step before the latest
-- snapshots (see "Growth for the periods ending today").
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
    create temporary table refresh_batch as
        select s.id, s.video_id, s.external_video_id, s.created_at,
               s.views, s.likes, s.comments, s.reposts, s.saves
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
               ((b.first_created_at at time zone 'UTC')::date) as from_day
          from (select video_id, min(created_at) as first_created_at,
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
               l.views_carry as views, l.likes_carry as likes, l.comments_carry as comments,
               l.reposts_carry as reposts, l.saves_carry as saves, true as is_seed
          from pg_temp.refresh_videos r join analytics.video_latest_statistics l on l.video_id = r.video_id
         where not r.late
        union all
        select b.video_id, b.external_video_id, b.id, b.created_at,
               b.views, b.likes, b.comments, b.reposts, b.saves, false
          from pg_temp.refresh_batch b join pg_temp.refresh_videos r on r.video_id = b.video_id
         where not r.late
        union all
        select r.video_id, l.external_video_id, 0, '-infinity',
               (select s.views from analytics.video_statistics s
                 where s.video_id = r.video_id and s.id <= new_mark and s.views is not null
                   and s.created_at < (r.from_day::timestamp at time zone 'UTC')
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
               true
          from pg_temp.refresh_videos r join analytics.video_latest_statistics l on l.video_id = r.video_id
         where r.late
        union all
        select s.video_id, s.external_video_id, s.id, s.created_at,
               s.views, s.likes, s.comments, s.reposts, s.saves, false
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
               c.views, c.likes, c.comments, c.reposts, c.saves,
               c.views_last, c.likes_last, c.comments_last, c.reposts_last, c.saves_last,
               c.views - lag(c.views_last) over o as views_c,
               c.likes - lag(c.likes_last) over o as likes_c,
               c.comments - lag(c.comments_last) over o as comments_c,
               c.reposts - lag(c.reposts_last) over o as reposts_c,
               c.saves - lag(c.saves_last) over o as saves_c,
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
           coalesce(sum(views_c), 0), coalesce(sum(likes_c), 0), coalesce(sum(comments_c), 0),
           coalesce(sum(reposts_c), 0), coalesce(sum(saves_c), 0), count(*)
      from pg_temp.refresh_contributions
     where not is_seed
     group by video_id, day
    on conflict (video_id, date) do update
       set views_delta = d.views_delta + excluded.views_delta,
           likes_delta = d.likes_delta + excluded.likes_delta,
           comments_delta = d.comments_delta + excluded.comments_delta,
           reposts_delta = d.reposts_delta + excluded.reposts_delta,
           saves_delta = d.saves_delta + excluded.saves_delta,
           snapshots = d.snapshots + excluded.snapshots;

    -- Weekly: in-order videos add their new contributions; late videos have their weeks from from_day's
    -- week on rebuilt from the (now correct) daily rows.
    insert into analytics.mv_video_weekly_increments as w
           (video_id, external_video_id, week_start, views_delta, likes_delta, comments_delta, reposts_delta,
            saves_delta, snapshots)
    select c.video_id, max(c.external_video_id), date_trunc('week', c.day)::date,
           coalesce(sum(c.views_c), 0), coalesce(sum(c.likes_c), 0), coalesce(sum(c.comments_c), 0),
           coalesce(sum(c.reposts_c), 0), coalesce(sum(c.saves_c), 0), count(*)
      from pg_temp.refresh_contributions c join pg_temp.refresh_videos r on r.video_id = c.video_id
     where not c.is_seed and not r.late
     group by c.video_id, date_trunc('week', c.day)::date
    on conflict (video_id, week_start) do update
       set views_delta = w.views_delta + excluded.views_delta,
           likes_delta = w.likes_delta + excluded.likes_delta,
           comments_delta = w.comments_delta + excluded.comments_delta,
           reposts_delta = w.reposts_delta + excluded.reposts_delta,
           saves_delta = w.saves_delta + excluded.saves_delta,
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
                   coalesce(sum(c.views_c) filter (where c.day = growth_day), 0) as views_1,
                   coalesce(sum(c.likes_c) filter (where c.day = growth_day), 0) as likes_1,
                   coalesce(sum(c.comments_c) filter (where c.day = growth_day), 0) as comments_1,
                   coalesce(sum(c.reposts_c) filter (where c.day = growth_day), 0) as reposts_1,
                   coalesce(sum(c.saves_c) filter (where c.day = growth_day), 0) as saves_1,
                   coalesce(sum(c.views_c) filter (where c.day > growth_day - 7), 0) as views_7,
                   coalesce(sum(c.likes_c) filter (where c.day > growth_day - 7), 0) as likes_7,
                   coalesce(sum(c.comments_c) filter (where c.day > growth_day - 7), 0) as comments_7,
                   coalesce(sum(c.reposts_c) filter (where c.day > growth_day - 7), 0) as reposts_7,
                   coalesce(sum(c.saves_c) filter (where c.day > growth_day - 7), 0) as saves_7,
                   coalesce(sum(c.views_c), 0) as views_30, coalesce(sum(c.likes_c), 0) as likes_30,
                   coalesce(sum(c.comments_c), 0) as comments_30, coalesce(sum(c.reposts_c), 0) as reposts_30,
                   coalesce(sum(c.saves_c), 0) as saves_30
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
           set views = g.views + x.views, likes = g.likes + x.likes, comments = g.comments + x.comments,
               reposts = g.reposts + x.reposts, saves = g.saves + x.saves
          from period_changes x
         where g.video_id = x.video_id and g.period_days = x.days
           and (x.views, x.likes, x.comments, x.reposts, x.saves) <> (0, 0, 0, 0, 0);

        -- Late videos: their days from from_day on were rewritten; sum their daily rows again (only when a
        -- rewritten day falls inside the periods).
        perform analytics.resum_video_growth(growth_day, array(
            select r.video_id from pg_temp.refresh_videos r where r.late and r.from_day <= growth_day));
    end if;

    -- Latest snapshot and carries: the most recent row of each video's computation window.
    insert into analytics.video_latest_statistics as l
           (video_id, external_video_id, statistics_id, created_at, views, likes, comments, reposts, saves,
            views_carry, likes_carry, comments_carry, reposts_carry, saves_carry)
    select video_id, external_video_id, id, created_at, views, likes, comments, reposts, saves,
           views_last, likes_last, comments_last, reposts_last, saves_last
      from pg_temp.refresh_contributions
     where is_latest and not is_seed
    on conflict (video_id) do update
       set external_video_id = excluded.external_video_id, statistics_id = excluded.statistics_id,
           created_at = excluded.created_at, views = excluded.views, likes = excluded.likes,
           comments = excluded.comments, reposts = excluded.reposts, saves = excluded.saves,
           views_carry = excluded.views_carry, likes_carry = excluded.likes_carry,
           comments_carry = excluded.comments_carry, reposts_carry = excluded.reposts_carry,
           saves_carry = excluded.saves_carry;

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

-- verify_read_model() as before, plus video_growth: every video's three rows equal the sums of a full
-- recompute's daily increments over the periods ending on growth_as_of.
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
               s.views, s.likes, s.comments, s.reposts, s.saves
          from analytics.video_statistics s, mark
         where s.id <= mark.watermark
         order by s.video_id, s.created_at desc, s.id desc
    ), latest_kept as (
        select video_id, external_video_id, statistics_id, created_at, views, likes, comments, reposts, saves
          from analytics.video_latest_statistics
         where statistics_id is not null
    ), growth_ref as (
        -- Written as the definition reads, independently of the refresh's one-pass sums.
        select v.id as video_id, p.days as period_days,
               coalesce(sum(d.views_delta), 0)::bigint as views, coalesce(sum(d.likes_delta), 0)::bigint as likes,
               coalesce(sum(d.comments_delta), 0)::bigint as comments,
               coalesce(sum(d.reposts_delta), 0)::bigint as reposts,
               coalesce(sum(d.saves_delta), 0)::bigint as saves
          from mark
         cross join analytics.videos v
         cross join unnest(array[1, 7, 30]::smallint[]) p(days)
          left join daily_ref d
            on d.video_id = v.id and d.date between mark.growth_as_of - p.days + 1 and mark.growth_as_of
         group by v.id, p.days
    ), growth_kept as (
        select video_id, period_days, views, likes, comments, reposts, saves from analytics.video_growth
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
            (select * from growth_ref except all select * from growth_kept)) x))
$$;
comment on function analytics.verify_read_model() is
    'Compares the maintained read model with a full recompute up to its watermark; 0 mismatches = correct.';

-- Privileges: the refresh reaches video_growth only through refresh_materialized_views() (security definer);
-- the dashboard reads it. rebuild_video_growth() and the trigger function are for the owner alone.
revoke all on function analytics.add_video_growth_rows() from public;
revoke all on function analytics.rebuild_video_growth(date) from public;
revoke all on function analytics.resum_video_growth(date, uuid[]) from public;
revoke all on function analytics.refresh_materialized_views(integer) from public;
revoke all on function analytics.verify_read_model() from public;
grant execute on function analytics.refresh_materialized_views(integer) to vidstats_refresh;
grant execute on function analytics.verify_read_model() to vidstats_refresh;
grant select on analytics.video_growth to vidstats_reader;
