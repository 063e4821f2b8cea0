-- The read model ("the Wolf"'s output): daily and weekly increments and the latest snapshot per video,
-- maintained incrementally from the append-only video_statistics so a refresh costs what is new, not the
-- whole history.
--
-- Semantics, for each metric m and each snapshot s of a video in (created_at, id) order: s contributes
-- s.m - p.m, where p is the latest earlier snapshot of that video whose m is not NULL; nothing when s.m is
-- NULL or there is no such p (a video's first snapshot contributes nothing). The daily increment of
-- (video, UTC day) sums the contributions of that day's snapshots (0 when none); the weekly one sums daily
-- increments over the ISO week. Negative contributions are kept. Deltas cross day boundaries.

-- Reference definitions: the whole computation from scratch over the snapshots with id <= p_max_id (all of
-- them when NULL). The oracle for tests, the benchmark's baseline and what `vidstats verify` compares with.
create function analytics.video_daily_increments_upto(p_max_id bigint)
returns table (
    video_id uuid, external_video_id text, date date, views_delta bigint, likes_delta bigint,
    comments_delta bigint, reposts_delta bigint, saves_delta bigint, snapshots integer
)
language sql
stable
set search_path = ''
as $$
    with numbered as (
        -- Within a video, count(m) up to a row numbers the runs that start at each non-NULL m.
        select s.video_id, s.external_video_id, s.id, s.created_at,
               s.views, s.likes, s.comments, s.reposts, s.saves,
               count(s.views) over w as views_run, count(s.likes) over w as likes_run,
               count(s.comments) over w as comments_run, count(s.reposts) over w as reposts_run,
               count(s.saves) over w as saves_run
          from analytics.video_statistics s
         where p_max_id is null or s.id <= p_max_id
        window w as (partition by s.video_id order by s.created_at, s.id)
    ), carried as (
        -- The last non-NULL m at or before each row: the first value of its run.
        select n.*,
               first_value(n.views) over (partition by n.video_id, n.views_run order by n.created_at, n.id)
                   as views_last,
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
               c.views - lag(c.views_last) over w as views_c,
               c.likes - lag(c.likes_last) over w as likes_c,
               c.comments - lag(c.comments_last) over w as comments_c,
               c.reposts - lag(c.reposts_last) over w as reposts_c,
               c.saves - lag(c.saves_last) over w as saves_c
          from carried c
        window w as (partition by c.video_id order by c.created_at, c.id)
    )
    select video_id, max(external_video_id), day,
           coalesce(sum(views_c), 0)::bigint, coalesce(sum(likes_c), 0)::bigint,
           coalesce(sum(comments_c), 0)::bigint, coalesce(sum(reposts_c), 0)::bigint,
           coalesce(sum(saves_c), 0)::bigint, count(*)::integer
      from contributions
     group by video_id, day
$$;

create function analytics.video_weekly_increments_upto(p_max_id bigint)
returns table (
    video_id uuid, external_video_id text, week_start date, views_delta bigint, likes_delta bigint,
    comments_delta bigint, reposts_delta bigint, saves_delta bigint, snapshots integer
)
language sql
stable
set search_path = ''
as $$
    select d.video_id, max(d.external_video_id), date_trunc('week', d.date)::date,
           sum(d.views_delta)::bigint, sum(d.likes_delta)::bigint, sum(d.comments_delta)::bigint,
           sum(d.reposts_delta)::bigint, sum(d.saves_delta)::bigint, sum(d.snapshots)::integer
      from analytics.video_daily_increments_upto(p_max_id) d
     group by d.video_id, date_trunc('week', d.date)::date
$$;

-- The seed's definitions (corrected as above), literally: full recompute over every snapshot.
create view analytics.video_daily_increments_reference as
    select * from analytics.video_daily_increments_upto(null);
create view analytics.video_weekly_increments_reference as
    select * from analytics.video_weekly_increments_upto(null);

-- The maintained relations. They keep the seed's names; they are tables, updated incrementally.
create table analytics.mv_video_daily_increments (
    video_id          uuid not null,
    external_video_id text not null,
    date              date not null,
    views_delta       bigint not null default 0,
    likes_delta       bigint not null default 0,
    comments_delta    bigint not null default 0,
    reposts_delta     bigint not null default 0,
    saves_delta       bigint not null default 0,
    snapshots         integer not null default 0,
    primary key (video_id, date)
) with (fillfactor = 80);  -- room for in-place (HOT) updates: a day's row changes with each fetch that day
comment on table analytics.mv_video_daily_increments is
    'Growth per video and UTC day; maintained by analytics.refresh_materialized_views().';
-- Day-range scans across all videos ("growth over the last N days"). Rows arrive roughly in date order,
-- so a BRIN index serves them at a fraction of a B-tree's upkeep on every refresh.
create index mv_video_daily_increments_date_brin on analytics.mv_video_daily_increments using brin (date);

create table analytics.mv_video_weekly_increments (
    video_id          uuid not null,
    external_video_id text not null,
    week_start        date not null check (extract(isodow from week_start) = 1),
    views_delta       bigint not null default 0,
    likes_delta       bigint not null default 0,
    comments_delta    bigint not null default 0,
    reposts_delta     bigint not null default 0,
    saves_delta       bigint not null default 0,
    snapshots         integer not null default 0,
    primary key (video_id, week_start)
) with (fillfactor = 80);  -- a week's row changes every day of the week: keep those updates in place
comment on table analytics.mv_video_weekly_increments is
    'Growth per video and ISO week (Monday start); maintained by analytics.refresh_materialized_views().';

-- One row per video: its latest snapshot (the "Totals"; NULL until the first one) and each metric's last
-- non-NULL value, the seed from which the next snapshot's contribution is computed without reading history.
-- Every video has its row from the moment it is inserted (a trigger below), so sorting by a total walks an
-- index of this table and joins the 50 videos it needs, instead of sorting every video.
create table analytics.video_latest_statistics (
    video_id          uuid primary key references analytics.videos (id) on delete cascade,
    external_video_id text not null,
    statistics_id     bigint,
    created_at        timestamptz,
    views             bigint,
    likes             bigint,
    comments          bigint,
    reposts           bigint,
    saves             bigint,
    views_carry       bigint,
    likes_carry       bigint,
    comments_carry    bigint,
    reposts_carry     bigint,
    saves_carry       bigint
);
comment on table analytics.video_latest_statistics is
    'Latest snapshot per video by (created_at, id), maintained by analytics.refresh_materialized_views().';
-- Dashboard sorts by a total read these indexes instead of sorting every video.
create index video_latest_statistics_views_idx on analytics.video_latest_statistics (views desc nulls last, video_id);
create index video_latest_statistics_likes_idx on analytics.video_latest_statistics (likes desc nulls last, video_id);
create index video_latest_statistics_comments_idx
    on analytics.video_latest_statistics (comments desc nulls last, video_id);
create index video_latest_statistics_reposts_idx
    on analytics.video_latest_statistics (reposts desc nulls last, video_id);
create index video_latest_statistics_saves_idx on analytics.video_latest_statistics (saves desc nulls last, video_id);
create index video_latest_statistics_created_at_idx
    on analytics.video_latest_statistics (created_at desc, video_id);


-- Refresh bookkeeping: the watermark (every snapshot with id <= it is reflected) and the last run's figures.
create table analytics.read_model_state (
    name                 text primary key,
    watermark            bigint not null default 0,
    last_run_at          timestamptz,
    last_success_at      timestamptz,
    last_rows            bigint not null default 0,
    last_videos          bigint not null default 0,
    last_late_videos     bigint not null default 0,
    last_duration_ms     numeric not null default 0,
    total_rows           bigint not null default 0
);
insert into analytics.read_model_state (name) values ('video_statistics');

-- A new video gets its (empty) row at once, in the writer's transaction: the fast view lists it immediately,
-- with NULL counters, and the refresh only ever updates rows. Runs as the owner: writers need no grant on
-- the read relation, and cannot write it any other way.
create function analytics.add_video_latest_statistics_row()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into analytics.video_latest_statistics (video_id, external_video_id)
    values (new.id, new.external_video_id);
    return null;
end
$$;
create trigger videos_add_latest_statistics_row
    after insert on analytics.videos
    for each row execute function analytics.add_video_latest_statistics_row();
insert into analytics.video_latest_statistics (video_id, external_video_id)
    select id, external_video_id from analytics.videos;

-- Every column of videos plus its latest snapshot (NULL counters before the first fetch). One row per video
-- from video_latest_statistics, indexed for sorting by any total. Never reads the statistics history.
create view analytics.videos_with_statistics_fast as
    select v.*, l.views, l.likes, l.comments, l.reposts, l.saves, l.created_at as stats_created_at
      from analytics.video_latest_statistics l
      join analytics.videos v on v.id = l.video_id;

-- One bounded step of the incremental refresh, in the caller's transaction: reflects up to p_max_rows new
-- snapshots (by id) and moves the watermark with them. Call again while caught_up is false.
create function analytics.refresh_materialized_views(p_max_rows integer default 100000)
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
        'caught_up', new_mark >= safe_mark,
        'duration_ms', duration_ms);
end
$$;
comment on function analytics.refresh_materialized_views(integer) is
    'Incremental refresh of the video read model (one bounded step); returns a JSON summary.';

-- Freshness for readers (the dashboard's /status): when the read model last caught up, and how old the
-- oldest snapshot it does not reflect yet is. Runs as the owner so readers need no access to snapshots.
create function analytics.refresh_status()
returns table (
    name text, watermark bigint, last_run_at timestamptz, last_success_at timestamptz, last_rows bigint,
    last_duration_ms numeric, oldest_pending_at timestamptz, lag_seconds numeric
)
language sql
stable
security definer
set search_path = ''
as $$
    select st.name, st.watermark, st.last_run_at, st.last_success_at, st.last_rows, st.last_duration_ms,
           p.created_at,
           coalesce(round(extract(epoch from now() - p.inserted_at)::numeric, 1), 0)
      from analytics.read_model_state st
      left join lateral (
          -- the first snapshot (by id, so by insertion) the read model has not taken in yet
          select s.created_at, least(s.created_at, now()) as inserted_at
            from analytics.video_statistics s
           where s.id > st.watermark
           order by s.id
           limit 1) p on true
     where st.name = 'video_statistics'
$$;

-- Proves the maintained relations equal a full recompute over the snapshots they reflect (id <= watermark).
-- One SQL statement, so one snapshot: a refresh committing meanwhile cannot make it disagree with itself.
-- Full recompute: as slow as the reference views, meant for operators (`vidstats verify`) and tests.
create function analytics.verify_read_model()
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
    with mark as (
        select watermark from analytics.read_model_state where name = 'video_statistics'
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
            (select id from analytics.videos_with_statistics_fast except all select id from analytics.videos)) x))
$$;
comment on function analytics.verify_read_model() is
    'Compares the maintained read model with a full recompute up to its watermark; 0 mismatches = correct.';

revoke all on function analytics.video_daily_increments_upto(bigint) from public;
revoke all on function analytics.verify_read_model() from public;
revoke all on function analytics.video_weekly_increments_upto(bigint) from public;
revoke all on function analytics.refresh_materialized_views(integer) from public;
revoke all on function analytics.refresh_status() from public;
revoke all on function analytics.add_video_latest_statistics_row() from public;

grant execute on function analytics.refresh_materialized_views(integer) to vidstats_refresh;
grant execute on function analytics.video_daily_increments_upto(bigint) to vidstats_refresh;
grant execute on function analytics.video_weekly_increments_upto(bigint) to vidstats_refresh;
grant execute on function analytics.refresh_status() to vidstats_refresh, vidstats_reader;
grant execute on function analytics.verify_read_model() to vidstats_refresh;
grant select on analytics.video_daily_increments_reference, analytics.video_weekly_increments_reference
    to vidstats_refresh;
grant select on analytics.mv_video_daily_increments, analytics.mv_video_weekly_increments,
    analytics.video_latest_statistics, analytics.videos_with_statistics_fast, analytics.read_model_state
    to vidstats_refresh, vidstats_reader;
