-- A bulk catch-up path for the read model. When the backlog past the watermark is a large share of the
-- history (a first migration of an existing video_statistics, a long outage), stepping through it row-wise
-- (upserting each video's daily, weekly, latest and growth rows once per step) costs several times a full
-- recompute. The bulk path recomputes instead, chunk by chunk of videos (id order): each chunk's snapshots up
-- to a fixed target id go through one window pass with the same rules as the incremental refresh (NULL
-- contributions, views kinds, first values), and its daily, weekly, latest, growth and campaign-bound rows are
-- written into the existing relations in place (upserts that skip unchanged rows, deletes of rows that no
-- longer exist). Nothing is truncated, dropped or swapped (the relations keep their grants and policies), and
-- no lock stronger than a row lock is taken on a read relation: readers are never blocked.
--
-- Watermark: the target is the safe mark (every id up to it committed or rolled back for good) when the bulk
-- catch-up starts; the watermark moves to it with the last chunk. Snapshots written meanwhile (id > target,
-- in order or late) are left to the incremental path, which resumes from the target.

alter table analytics.read_model_state
    add column bulk_target bigint,
    add column bulk_after uuid,
    add column bulk_day date,
    add column bulk_chunk_videos integer,
    add column bulk_min_rows bigint not null default 500000 check (bulk_min_rows > 0),
    add column bulk_min_share real not null default 0.25 check (bulk_min_share >= 0),
    add column bulk_chunk_rows integer not null default 250000 check (bulk_chunk_rows > 0);
comment on column analytics.read_model_state.bulk_target is
    'A bulk catch-up in progress: the snapshot id it catches up to (the watermark moves there with its last '
    'chunk), bulk_after the last video id done, bulk_day the UTC day its growth periods end on.';
comment on column analytics.read_model_state.bulk_min_rows is
    'The refresh catches up in bulk when the backlog has at least bulk_min_rows snapshots and is at least '
    'bulk_min_share of the history; a bulk step covers about bulk_chunk_rows snapshots.';

-- Milliseconds since t (the steps' timings in the refresh's summary).
create function analytics.ms_since(t timestamptz)
returns numeric
language sql
volatile
set search_path = ''
as $$ select round(extract(epoch from clock_timestamp() - t) * 1000, 1) $$;

-- The incremental step keeps its body; the entry point below chooses between it and a bulk chunk.
alter function analytics.refresh_materialized_views(integer) rename to refresh_incremental_step;
revoke all on function analytics.refresh_incremental_step(integer) from public, vidstats_refresh;
comment on function analytics.refresh_incremental_step(integer) is
    'One bounded step of the incremental refresh (called by analytics.refresh_materialized_views()).';

-- One chunk of a bulk catch-up: the videos with p_after < id <= their p_chunk_videos-th (all of them when
-- fewer are left), recomputed from their snapshots with id <= p_target. Returns the last video id of the
-- chunk (NULL: it was the last chunk) and the snapshots and videos it read.
create function analytics.refresh_bulk_chunk(
    p_after uuid, p_target bigint, p_day date, p_chunk_videos integer,
    out last_video uuid, out chunk_rows bigint, out chunk_videos bigint, out steps_ms jsonb
)
language plpgsql
set search_path = ''
as $$
declare
    upper_id uuid;
    t timestamptz := clock_timestamp();
begin
    steps_ms := '{}';
    -- The chunk's sorts and hashes in memory (a chunk is bounded, so is this), for this transaction only.
    perform set_config('work_mem', '64MB', true);
    select v.id into upper_id
      from analytics.videos v
     where p_after is null or v.id > p_after
     order by v.id
    offset p_chunk_videos - 1 limit 1;
    -- NULL: no video after this chunk, it is the last one
    last_video := case when upper_id is not null
                            and exists (select from analytics.videos v where v.id > upper_id) then upper_id end;

    drop table if exists pg_temp.bulk_videos, pg_temp.bulk_latest, pg_temp.bulk_daily, pg_temp.bulk_weekly;
    create temporary table bulk_videos as
        select v.id from analytics.videos v
         where (p_after is null or v.id > p_after) and (upper_id is null or v.id <= upper_id);
    get diagnostics chunk_videos = row_count;

    create temporary table bulk_daily (
        video_id uuid, external_video_id text, date date, views_delta bigint, likes_delta bigint,
        comments_delta bigint, reposts_delta bigint, saves_delta bigint, snapshots integer
    );
    create temporary table bulk_latest (
        video_id uuid, external_video_id text, id bigint, created_at timestamptz, views bigint, likes bigint,
        comments bigint, reposts bigint, saves bigint, views_kind text, views_last bigint, plays_last bigint,
        likes_last bigint, comments_last bigint, reposts_last bigint, saves_last bigint
    );

    -- One pass over the chunk's snapshots (by video range: the (video_id, created_at, id) index already in the
    -- windows' order, or one scan and sort when the chunk is most of the table), with the incremental step's
    -- rules over whole histories (no seed rows). A snapshot's contribution is its value minus the last
    -- non-NULL value before it (0 for the first, NULL when unknown; views of each kind are their own series),
    -- and the carries of the latest row are its last non-NULL values. "The last non-NULL value before" is
    -- found without arrays and without a sort per metric: the highest row number before the row that has a
    -- value (a running max of integers), then that row's value (nth_value). All windows share one ordering.
    -- The per-snapshot rows are never stored: they feed the daily sums and the latest rows directly.
    with snapshots as (
        select s.video_id, s.external_video_id, s.id, s.created_at,
               case when s.views_kind = 'views' then s.views end as views,
               case when s.views_kind = 'plays' then s.views end as plays,
               s.likes, s.comments, s.reposts, s.saves, s.views_kind,
               row_number() over o as rn
          from analytics.video_statistics s
         where s.id <= p_target
           and (p_after is null or s.video_id > p_after) and (upper_id is null or s.video_id <= upper_id)
        window o as (partition by s.video_id order by s.created_at, s.id)
    ), previous as (
        select n.*,
               max(n.rn) filter (where n.views is not null) over p as views_rn,
               max(n.rn) filter (where n.plays is not null) over p as plays_rn,
               max(n.rn) filter (where n.likes is not null) over p as likes_rn,
               max(n.rn) filter (where n.comments is not null) over p as comments_rn,
               max(n.rn) filter (where n.reposts is not null) over p as reposts_rn,
               max(n.rn) filter (where n.saves is not null) over p as saves_rn
          from snapshots n
        window p as (partition by n.video_id order by n.created_at, n.id
                     rows between unbounded preceding and 1 preceding)
    ), carried as (
        select v.video_id, v.external_video_id, v.id, v.created_at, v.views, v.plays, v.likes, v.comments,
               v.reposts, v.saves, v.views_kind,
               nth_value(v.views, v.views_rn::integer) over o as views_before,
               nth_value(v.plays, v.plays_rn::integer) over o as plays_before,
               nth_value(v.likes, v.likes_rn::integer) over o as likes_before,
               nth_value(v.comments, v.comments_rn::integer) over o as comments_before,
               nth_value(v.reposts, v.reposts_rn::integer) over o as reposts_before,
               nth_value(v.saves, v.saves_rn::integer) over o as saves_before,
               lead(v.id) over o is null as is_latest
          from previous v
        window o as (partition by v.video_id order by v.created_at, v.id)
    ), contributions as materialized (
        select c.*, (c.created_at at time zone 'UTC')::date as day,
               coalesce(c.views - coalesce(c.views_before, c.views),
                        c.plays - coalesce(c.plays_before, c.plays)) as views_c,
               c.likes - coalesce(c.likes_before, c.likes) as likes_c,
               c.comments - coalesce(c.comments_before, c.comments) as comments_c,
               c.reposts - coalesce(c.reposts_before, c.reposts) as reposts_c,
               c.saves - coalesce(c.saves_before, c.saves) as saves_c
          from carried c
    ), latest as (
        insert into pg_temp.bulk_latest
        select c.video_id, c.external_video_id, c.id, c.created_at, coalesce(c.views, c.plays), c.likes,
               c.comments, c.reposts, c.saves, c.views_kind,
               coalesce(c.views, c.views_before), coalesce(c.plays, c.plays_before),
               coalesce(c.likes, c.likes_before), coalesce(c.comments, c.comments_before),
               coalesce(c.reposts, c.reposts_before), coalesce(c.saves, c.saves_before)
          from contributions c
         where c.is_latest
    )
    insert into pg_temp.bulk_daily
    select c.video_id, max(c.external_video_id), c.day, sum(c.views_c), sum(c.likes_c), sum(c.comments_c),
           sum(c.reposts_c), sum(c.saves_c), count(*)
      from contributions c
     group by c.video_id, c.day;
    chunk_rows := (select coalesce(sum(d.snapshots), 0) from pg_temp.bulk_daily d);
    steps_ms := steps_ms || jsonb_build_object('contributions', analytics.ms_since(t));
    t := clock_timestamp();

    create temporary table bulk_weekly as
        select d.video_id, max(d.external_video_id) as external_video_id,
               date_trunc('week', d.date)::date as week_start,
               sum(d.views_delta)::bigint as views_delta, sum(d.likes_delta)::bigint as likes_delta,
               sum(d.comments_delta)::bigint as comments_delta, sum(d.reposts_delta)::bigint as reposts_delta,
               sum(d.saves_delta)::bigint as saves_delta, sum(d.snapshots)::integer as snapshots
          from pg_temp.bulk_daily d
         group by d.video_id, date_trunc('week', d.date)::date;
    analyze pg_temp.bulk_daily;
    analyze pg_temp.bulk_weekly;
    analyze pg_temp.bulk_latest;

    -- Daily and weekly rows of the chunk's range. A range without rows (a first catch-up) gets plain inserts in
    -- key order (appending to the primary key's pages); otherwise rows the recompute no longer has go and the
    -- others are upserted, unchanged ones skipped.
    if exists (select from analytics.mv_video_daily_increments d
                where (p_after is null or d.video_id > p_after) and (upper_id is null or d.video_id <= upper_id)) then
        delete from analytics.mv_video_daily_increments d
         where (p_after is null or d.video_id > p_after) and (upper_id is null or d.video_id <= upper_id)
           and not exists (select from pg_temp.bulk_daily n where n.video_id = d.video_id and n.date = d.date);
        insert into analytics.mv_video_daily_increments as d
               (video_id, external_video_id, date, views_delta, likes_delta, comments_delta, reposts_delta,
                saves_delta, snapshots)
        select n.video_id, n.external_video_id, n.date, n.views_delta, n.likes_delta, n.comments_delta,
               n.reposts_delta, n.saves_delta, n.snapshots
          from pg_temp.bulk_daily n
         order by n.video_id, n.date
        on conflict (video_id, date) do update
           set external_video_id = excluded.external_video_id, views_delta = excluded.views_delta,
               likes_delta = excluded.likes_delta, comments_delta = excluded.comments_delta,
               reposts_delta = excluded.reposts_delta, saves_delta = excluded.saves_delta,
               snapshots = excluded.snapshots
         where (d.external_video_id, d.views_delta, d.likes_delta, d.comments_delta, d.reposts_delta,
                d.saves_delta, d.snapshots)
               is distinct from (excluded.external_video_id, excluded.views_delta, excluded.likes_delta,
                                 excluded.comments_delta, excluded.reposts_delta, excluded.saves_delta,
                                 excluded.snapshots);
    else
        insert into analytics.mv_video_daily_increments
               (video_id, external_video_id, date, views_delta, likes_delta, comments_delta, reposts_delta,
                saves_delta, snapshots)
        select n.video_id, n.external_video_id, n.date, n.views_delta, n.likes_delta, n.comments_delta,
               n.reposts_delta, n.saves_delta, n.snapshots
          from pg_temp.bulk_daily n
         order by n.video_id, n.date;
    end if;
    steps_ms := steps_ms || jsonb_build_object('daily', analytics.ms_since(t));
    t := clock_timestamp();

    if exists (select from analytics.mv_video_weekly_increments w
                where (p_after is null or w.video_id > p_after) and (upper_id is null or w.video_id <= upper_id)) then
        delete from analytics.mv_video_weekly_increments w
         where (p_after is null or w.video_id > p_after) and (upper_id is null or w.video_id <= upper_id)
           and not exists (select from pg_temp.bulk_weekly n
                            where n.video_id = w.video_id and n.week_start = w.week_start);
        insert into analytics.mv_video_weekly_increments as w
               (video_id, external_video_id, week_start, views_delta, likes_delta, comments_delta, reposts_delta,
                saves_delta, snapshots)
        select n.video_id, n.external_video_id, n.week_start, n.views_delta, n.likes_delta, n.comments_delta,
               n.reposts_delta, n.saves_delta, n.snapshots
          from pg_temp.bulk_weekly n
         order by n.video_id, n.week_start
        on conflict (video_id, week_start) do update
           set external_video_id = excluded.external_video_id, views_delta = excluded.views_delta,
               likes_delta = excluded.likes_delta, comments_delta = excluded.comments_delta,
               reposts_delta = excluded.reposts_delta, saves_delta = excluded.saves_delta,
               snapshots = excluded.snapshots
         where (w.external_video_id, w.views_delta, w.likes_delta, w.comments_delta, w.reposts_delta,
                w.saves_delta, w.snapshots)
               is distinct from (excluded.external_video_id, excluded.views_delta, excluded.likes_delta,
                                 excluded.comments_delta, excluded.reposts_delta, excluded.saves_delta,
                                 excluded.snapshots);
    else
        insert into analytics.mv_video_weekly_increments
               (video_id, external_video_id, week_start, views_delta, likes_delta, comments_delta, reposts_delta,
                saves_delta, snapshots)
        select n.video_id, n.external_video_id, n.week_start, n.views_delta, n.likes_delta, n.comments_delta,
               n.reposts_delta, n.saves_delta, n.snapshots
          from pg_temp.bulk_weekly n
         order by n.video_id, n.week_start;
    end if;
    steps_ms := steps_ms || jsonb_build_object('weekly', analytics.ms_since(t));
    t := clock_timestamp();

    -- Latest row and carries (every video has its row from its insert on).
    update analytics.video_latest_statistics l
       set external_video_id = c.external_video_id, statistics_id = c.id, created_at = c.created_at,
           views = c.views, likes = c.likes, comments = c.comments, reposts = c.reposts, saves = c.saves,
           views_kind = c.views_kind, views_carry = c.views_last, plays_carry = c.plays_last,
           likes_carry = c.likes_last, comments_carry = c.comments_last, reposts_carry = c.reposts_last,
           saves_carry = c.saves_last
      from pg_temp.bulk_latest c
     where l.video_id = c.video_id
       and (l.external_video_id, l.statistics_id, l.created_at, l.views, l.likes, l.comments, l.reposts, l.saves,
            l.views_kind, l.views_carry, l.plays_carry, l.likes_carry, l.comments_carry, l.reposts_carry,
            l.saves_carry)
           is distinct from (c.external_video_id, c.id, c.created_at, c.views, c.likes, c.comments, c.reposts,
                             c.saves, c.views_kind, c.views_last, c.plays_last, c.likes_last, c.comments_last,
                             c.reposts_last, c.saves_last);
    steps_ms := steps_ms || jsonb_build_object('latest', analytics.ms_since(t));
    t := clock_timestamp();

    -- Growth over the periods ending on p_day, summed from the chunk's new daily rows (NULL: nothing measured).
    with sums as (
        select d.video_id,
               sum(d.views_delta) filter (where d.date = p_day) as views_1,
               sum(d.likes_delta) filter (where d.date = p_day) as likes_1,
               sum(d.comments_delta) filter (where d.date = p_day) as comments_1,
               sum(d.reposts_delta) filter (where d.date = p_day) as reposts_1,
               sum(d.saves_delta) filter (where d.date = p_day) as saves_1,
               sum(d.views_delta) filter (where d.date > p_day - 7) as views_7,
               sum(d.likes_delta) filter (where d.date > p_day - 7) as likes_7,
               sum(d.comments_delta) filter (where d.date > p_day - 7) as comments_7,
               sum(d.reposts_delta) filter (where d.date > p_day - 7) as reposts_7,
               sum(d.saves_delta) filter (where d.date > p_day - 7) as saves_7,
               sum(d.views_delta) as views_30, sum(d.likes_delta) as likes_30,
               sum(d.comments_delta) as comments_30, sum(d.reposts_delta) as reposts_30,
               sum(d.saves_delta) as saves_30
          from pg_temp.bulk_daily d
         where d.date between p_day - 29 and p_day
         group by d.video_id
    ), periods as (
        select v.id as video_id, p.*
          from pg_temp.bulk_videos v
          left join sums s on s.video_id = v.id
         cross join lateral (values
               (1::smallint, s.views_1, s.likes_1, s.comments_1, s.reposts_1, s.saves_1),
               (7::smallint, s.views_7, s.likes_7, s.comments_7, s.reposts_7, s.saves_7),
               (30::smallint, s.views_30, s.likes_30, s.comments_30, s.reposts_30, s.saves_30)
               ) p(days, views, likes, comments, reposts, saves)
    )
    update analytics.video_growth g
       set views = p.views, likes = p.likes, comments = p.comments, reposts = p.reposts, saves = p.saves
      from periods p
     where g.video_id = p.video_id and g.period_days = p.days
       and (g.views, g.likes, g.comments, g.reposts, g.saves)
           is distinct from (p.views, p.likes, p.comments, p.reposts, p.saves);
    steps_ms := steps_ms || jsonb_build_object('growth', analytics.ms_since(t));
    t := clock_timestamp();

    -- Campaign bounds of the chunk's memberships, from the same snapshots.
    perform analytics.compute_campaign_video_bounds(array_agg(cv.campaign_id), array_agg(cv.video_id), p_target,
                                                    false)
       from analytics.campaign_videos cv
      where (p_after is null or cv.video_id > p_after) and (upper_id is null or cv.video_id <= upper_id);
    steps_ms := steps_ms || jsonb_build_object('campaign_bounds', analytics.ms_since(t));
    t := clock_timestamp();

    drop table pg_temp.bulk_videos, pg_temp.bulk_latest, pg_temp.bulk_daily, pg_temp.bulk_weekly;
end
$$;
comment on function analytics.refresh_bulk_chunk(uuid, bigint, date, integer) is
    'One chunk of videos of a bulk catch-up, recomputed from their snapshots up to a target id.';

-- The refresh: one bounded step, a bulk chunk while a bulk catch-up is under way or worth starting, else an
-- incremental step. Returns the incremental step's JSON summary ("bulk": true for a bulk chunk).
create function analytics.refresh_materialized_views(p_max_rows integer default 100000)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    started     timestamptz := clock_timestamp();
    state       analytics.read_model_state%rowtype;
    safe_mark   bigint;
    backlog     bigint;
    chunk       record;
    duration_ms numeric;
begin
    if not pg_try_advisory_xact_lock(hashtext('analytics.refresh_materialized_views')) then
        return jsonb_build_object('status', 'busy', 'caught_up', false,
                                  'message', 'another refresh is running; this call did nothing');
    end if;
    select * into state from analytics.read_model_state where name = 'video_statistics' for update;

    if state.bulk_target is null then
        -- An estimate (ids of rolled-back inserts count too) is enough to choose the path.
        backlog := coalesce(pg_sequence_last_value('analytics.video_statistics_id_seq'), 0) - state.watermark;
        if backlog < state.bulk_min_rows
           or backlog < state.bulk_min_share * (state.watermark + backlog) then
            return analytics.refresh_incremental_step(p_max_rows);
        end if;
        -- Start a bulk catch-up: its target is the safe mark, taken as the incremental step takes it (the
        -- table lock waits for in-flight inserts, then is released at once with the sub-block).
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
        state.bulk_target := safe_mark;
        state.bulk_after := null;
        state.bulk_day := (started at time zone 'UTC')::date;
        -- Chunks of about bulk_chunk_rows snapshots, at the history's average per video.
        state.bulk_chunk_videos := greatest(1, least(2000000000, floor(state.bulk_chunk_rows::numeric
            * greatest(1, (select count(*) from analytics.videos)) / greatest(1, safe_mark))))::integer;
        -- video_growth is summed for bulk_day chunk by chunk: readers sum at read time until the last chunk.
        update analytics.read_model_state
           set bulk_target = state.bulk_target, bulk_after = null, bulk_day = state.bulk_day,
               bulk_chunk_videos = state.bulk_chunk_videos, growth_as_of = null, growth_rebuild_day = null,
               growth_rebuild_after = null
         where name = 'video_statistics';
    end if;

    chunk := analytics.refresh_bulk_chunk(state.bulk_after, state.bulk_target, state.bulk_day,
                                          state.bulk_chunk_videos);
    duration_ms := round(extract(epoch from clock_timestamp() - started) * 1000, 1);
    update analytics.read_model_state
       set bulk_after = chunk.last_video,
           bulk_target = case when chunk.last_video is null then null else bulk_target end,
           bulk_day = case when chunk.last_video is null then null else bulk_day end,
           bulk_chunk_videos = case when chunk.last_video is null then null else bulk_chunk_videos end,
           watermark = case when chunk.last_video is null then state.bulk_target else watermark end,
           growth_as_of = case when chunk.last_video is null then state.bulk_day else growth_as_of end,
           last_run_at = started, last_success_at = clock_timestamp(), last_rows = chunk.chunk_rows,
           last_videos = chunk.chunk_videos, last_late_videos = 0, last_duration_ms = duration_ms,
           total_rows = total_rows + chunk.chunk_rows
     where name = 'video_statistics';

    return jsonb_build_object(
        'status', 'ok',
        'bulk', true,
        'rows', chunk.chunk_rows,
        'videos', chunk.chunk_videos,
        'late_videos', 0,
        'watermark', (select watermark from analytics.read_model_state where name = 'video_statistics'),
        -- the last chunk catches up to the target; what was written meanwhile is the next (incremental) step's
        -- (and the growth periods end today: else the next step starts the new day's rebuild)
        'caught_up', chunk.last_video is null and state.bulk_day = (started at time zone 'UTC')::date
                     and state.bulk_target >= coalesce(pg_sequence_last_value('analytics.video_statistics_id_seq'), 0),
        'growth_as_of', (select growth_as_of from analytics.read_model_state where name = 'video_statistics'),
        'growth_rebuilt', false,
        'growth_rebuild_pending', false,
        'duration_ms', duration_ms,
        'steps_ms', chunk.steps_ms);
end
$$;
comment on function analytics.refresh_materialized_views(integer) is
    'One bounded step of the read model''s refresh (a bulk chunk when catching up a large backlog, else '
    'incremental); returns a JSON summary.';

revoke all on function analytics.refresh_bulk_chunk(uuid, bigint, date, integer) from public;
revoke all on function analytics.ms_since(timestamptz) from public;
revoke all on function analytics.refresh_materialized_views(integer) from public;
grant execute on function analytics.refresh_materialized_views(integer) to vidstats_refresh;
