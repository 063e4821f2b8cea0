-- The nightly-shaped step, fewer passes (issue 17). After a nightly run every video has one new snapshot on
-- today, the day video_growth's periods end on. Measured per step (EXPLAIN ANALYZE, BUFFERS) at 1M: the window
-- passes and their temporary rows cost more than the daily, weekly and latest writes together, although a
-- video with one new row after its latest needs no window; and the daily and weekly upserts paid an upsert's
-- speculative insertion for rows that cannot exist yet. So:
-- - an in-order video with one new row gets its contribution straight from its latest row's carries (the same
--   rules: the carry is "the last non-NULL value before it"); only videos with several new rows, or late
--   ones, go through the window computation;
-- - the step's daily sums are computed once (refresh_daily) and feed the daily, weekly and growth writes;
-- - days after an in-order video's last reflected day (and weeks after its week) are inserted plainly: no
--   daily or weekly row can exist there, since every reflected snapshot of the video is at or before it (were
--   that ever wrong the primary key would fail the step, never double-count); other days are upserted as before;
-- - the step's sorts and hashes get 64MB of work_mem (as a bulk chunk's do): they spilled at 10k videos;
-- - growth's period sums in one grouping of the daily sums by (video, period), in bigint (they were 15 filtered
--   numeric sums per video, spread over the periods by a lateral join and cast back per row).

create or replace function analytics.refresh_incremental_step(p_max_rows integer default 100000)
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
    t           timestamptz := clock_timestamp();
    steps_ms    jsonb := '{}';
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
    -- The step's aggregates and hashes in memory (they spilled to disk with the default): a step is bounded by
    -- p_max_rows snapshots, so is this; for this transaction only.
    perform set_config('work_mem', '64MB', true);
    steps_ms := steps_ms || jsonb_build_object('lock', analytics.ms_since(t));
    t := clock_timestamp();

    drop table if exists pg_temp.refresh_batch, pg_temp.refresh_videos, pg_temp.refresh_rows,
        pg_temp.refresh_contributions, pg_temp.refresh_daily;
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
    steps_ms := steps_ms || jsonb_build_object('batch', analytics.ms_since(t));
    t := clock_timestamp();
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
               ((b.last_created_at at time zone 'UTC')::date) as to_day,
               b.batch_rows,
               -- the UTC day of the last snapshot already reflected (NULL: none): an in-order video has no daily
               -- row after it, nor a weekly row after its week
               ((l.created_at at time zone 'UTC')::date) as reflected_day
          from (select video_id, min(created_at) as first_created_at, max(created_at) as last_created_at,
                       (array_agg(id order by created_at, id))[1] as first_id, count(*) as batch_rows
                  from pg_temp.refresh_batch group by video_id) b
          left join analytics.video_latest_statistics l on l.video_id = b.video_id;
    analyze pg_temp.refresh_videos;
    select count(*), count(*) filter (where late) into batch_videos, late_videos from pg_temp.refresh_videos;
    steps_ms := steps_ms || jsonb_build_object('videos', analytics.ms_since(t));
    t := clock_timestamp();

    -- The rows to run the window computation over. In-order videos with several new rows: a seed row carrying
    -- each metric's last non-NULL value, then the new rows. Late videos: a seed row looked up just before
    -- from_day, then all their reflected rows (id <= new_mark) from from_day on. In-order videos with one new
    -- row (the nightly run's shape) need no window: see refresh_contributions.
    create temporary table refresh_rows as
        select l.video_id, l.external_video_id, 0::bigint as id, '-infinity'::timestamptz as created_at,
               l.views_carry as views, l.plays_carry as plays, l.likes_carry as likes,
               l.comments_carry as comments, l.reposts_carry as reposts, l.saves_carry as saves,
               null::text as views_kind, true as is_seed
          from pg_temp.refresh_videos r join analytics.video_latest_statistics l on l.video_id = r.video_id
         where not r.late and r.batch_rows > 1
        union all
        select b.video_id, b.external_video_id, b.id, b.created_at,
               b.views, b.plays, b.likes, b.comments, b.reposts, b.saves, b.views_kind, false
          from pg_temp.refresh_batch b join pg_temp.refresh_videos r on r.video_id = b.video_id
         where not r.late and r.batch_rows > 1
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
    steps_ms := steps_ms || jsonb_build_object('rows', analytics.ms_since(t));
    t := clock_timestamp();

    -- Contributions and each metric's last non-NULL value (the reference's rules, computed another way).
    -- The last non-NULL m before a row is found as the bulk catch-up finds it: the highest row number before it
    -- with a non-NULL m (a running max of integers), then that row's m (nth_value): about half the time of a
    -- running max of (position, id, value) arrays. The seed row sorts first ('-infinity').
    -- An in-order video with one new row: "the last non-NULL value before it" is its latest row's carry, so its
    -- contribution is computed directly from the two (the second part below), with the same rules.
    create temporary table refresh_contributions as
        with numbered as (
            select w.*, row_number() over o as rn
              from pg_temp.refresh_rows w
            window o as (partition by w.video_id order by w.created_at, w.id)
        ), previous as (
            select n.*,
                   max(n.rn) filter (where n.views is not null) over p as views_rn,
                   max(n.rn) filter (where n.plays is not null) over p as plays_rn,
                   max(n.rn) filter (where n.likes is not null) over p as likes_rn,
                   max(n.rn) filter (where n.comments is not null) over p as comments_rn,
                   max(n.rn) filter (where n.reposts is not null) over p as reposts_rn,
                   max(n.rn) filter (where n.saves is not null) over p as saves_rn
              from numbered n
            window p as (partition by n.video_id order by n.created_at, n.id
                         rows between unbounded preceding and 1 preceding)
        ), carried as (
            select v.*,
                   nth_value(v.views, v.views_rn::integer) over o as views_before,
                   nth_value(v.plays, v.plays_rn::integer) over o as plays_before,
                   nth_value(v.likes, v.likes_rn::integer) over o as likes_before,
                   nth_value(v.comments, v.comments_rn::integer) over o as comments_before,
                   nth_value(v.reposts, v.reposts_rn::integer) over o as reposts_before,
                   nth_value(v.saves, v.saves_rn::integer) over o as saves_before,
                   lead(v.id) over o is null as is_latest
              from previous v
            window o as (partition by v.video_id order by v.created_at, v.id)
        )
        select c.video_id, c.external_video_id, c.id, c.created_at, c.is_seed,
               (c.created_at at time zone 'UTC')::date as day,
               coalesce(c.views, c.plays) as views, c.likes, c.comments, c.reposts, c.saves, c.views_kind,
               coalesce(c.views, c.views_before) as views_last, coalesce(c.plays, c.plays_before) as plays_last,
               coalesce(c.likes, c.likes_before) as likes_last,
               coalesce(c.comments, c.comments_before) as comments_last,
               coalesce(c.reposts, c.reposts_before) as reposts_last,
               coalesce(c.saves, c.saves_before) as saves_last,
               -- NULL: not reported; 0: the first value of its kind; else the change since the last one
               coalesce(c.views - coalesce(c.views_before, c.views),
                        c.plays - coalesce(c.plays_before, c.plays)) as views_c,
               c.likes - coalesce(c.likes_before, c.likes) as likes_c,
               c.comments - coalesce(c.comments_before, c.comments) as comments_c,
               c.reposts - coalesce(c.reposts_before, c.reposts) as reposts_c,
               c.saves - coalesce(c.saves_before, c.saves) as saves_c,
               c.is_latest
          from carried c
        union all
        select b.video_id, b.external_video_id, b.id, b.created_at, false,
               (b.created_at at time zone 'UTC')::date,
               coalesce(b.views, b.plays), b.likes, b.comments, b.reposts, b.saves, b.views_kind,
               coalesce(b.views, l.views_carry), coalesce(b.plays, l.plays_carry), coalesce(b.likes, l.likes_carry),
               coalesce(b.comments, l.comments_carry), coalesce(b.reposts, l.reposts_carry),
               coalesce(b.saves, l.saves_carry),
               coalesce(b.views - coalesce(l.views_carry, b.views), b.plays - coalesce(l.plays_carry, b.plays)),
               b.likes - coalesce(l.likes_carry, b.likes),
               b.comments - coalesce(l.comments_carry, b.comments),
               b.reposts - coalesce(l.reposts_carry, b.reposts),
               b.saves - coalesce(l.saves_carry, b.saves),
               true
          from pg_temp.refresh_batch b
          join pg_temp.refresh_videos r on r.video_id = b.video_id
          join analytics.video_latest_statistics l on l.video_id = b.video_id
         where not r.late and r.batch_rows = 1;

    analyze pg_temp.refresh_contributions;
    steps_ms := steps_ms || jsonb_build_object('contributions', analytics.ms_since(t));
    t := clock_timestamp();

    -- Daily: late videos lose their rows from from_day on (recomputed below from all their rows); then every
    -- (video, day) with new contributions is added to.
    delete from analytics.mv_video_daily_increments d
     using pg_temp.refresh_videos r
     where r.late and d.video_id = r.video_id and d.date >= r.from_day;

    -- An in-order video's days after its last reflected one have no row yet (every reflected snapshot is at or
    -- before it): plain inserts, in key order, without an upsert's speculative insertion (a wrong guess would
    -- fail the step on the primary key, not double-count). The other days are upserted.
    create temporary table refresh_daily as
        select c.video_id, max(c.external_video_id) as external_video_id, c.day,
               sum(c.views_c)::bigint as views_delta, sum(c.likes_c)::bigint as likes_delta,
               sum(c.comments_c)::bigint as comments_delta, sum(c.reposts_c)::bigint as reposts_delta,
               sum(c.saves_c)::bigint as saves_delta, count(*)::integer as snapshots,
               not r.late and c.day > coalesce(r.reflected_day, '-infinity') as new_day,
               not r.late and date_trunc('week', c.day) > coalesce(date_trunc('week', r.reflected_day), '-infinity')
                   as new_week
          from pg_temp.refresh_contributions c join pg_temp.refresh_videos r on r.video_id = c.video_id
         where not c.is_seed
         group by c.video_id, c.day, r.late, r.reflected_day;
    analyze pg_temp.refresh_daily;

    insert into analytics.mv_video_daily_increments
           (video_id, external_video_id, date, views_delta, likes_delta, comments_delta, reposts_delta,
            saves_delta, snapshots)
    select video_id, external_video_id, day, views_delta, likes_delta, comments_delta, reposts_delta, saves_delta,
           snapshots
      from pg_temp.refresh_daily
     where new_day
     order by video_id, day;

    insert into analytics.mv_video_daily_increments as d
           (video_id, external_video_id, date, views_delta, likes_delta, comments_delta, reposts_delta,
            saves_delta, snapshots)
    select video_id, external_video_id, day, views_delta, likes_delta, comments_delta, reposts_delta, saves_delta,
           snapshots
      from pg_temp.refresh_daily
     where not new_day
     order by video_id, day
    on conflict (video_id, date) do update  -- NULL + x = x: a sum of contributions skips unknown ones
       set views_delta = coalesce(d.views_delta + excluded.views_delta, d.views_delta, excluded.views_delta),
           likes_delta = coalesce(d.likes_delta + excluded.likes_delta, d.likes_delta, excluded.likes_delta),
           comments_delta = coalesce(d.comments_delta + excluded.comments_delta, d.comments_delta,
                                     excluded.comments_delta),
           reposts_delta = coalesce(d.reposts_delta + excluded.reposts_delta, d.reposts_delta,
                                    excluded.reposts_delta),
           saves_delta = coalesce(d.saves_delta + excluded.saves_delta, d.saves_delta, excluded.saves_delta),
           snapshots = d.snapshots + excluded.snapshots;

    steps_ms := steps_ms || jsonb_build_object('daily', analytics.ms_since(t));
    t := clock_timestamp();
    -- Weekly: in-order videos add their new contributions; late videos have their weeks from from_day's
    -- week on rebuilt from the (now correct) daily rows.
    -- (A week after the last reflected day's week has no row yet: plain inserts, as for the days.)
    insert into analytics.mv_video_weekly_increments
           (video_id, external_video_id, week_start, views_delta, likes_delta, comments_delta, reposts_delta,
            saves_delta, snapshots)
    select d.video_id, max(d.external_video_id), date_trunc('week', d.day)::date,
           sum(d.views_delta), sum(d.likes_delta), sum(d.comments_delta), sum(d.reposts_delta), sum(d.saves_delta),
           sum(d.snapshots)
      from pg_temp.refresh_daily d
     where d.new_week
     group by d.video_id, date_trunc('week', d.day)::date
     order by 1, 3;

    insert into analytics.mv_video_weekly_increments as w
           (video_id, external_video_id, week_start, views_delta, likes_delta, comments_delta, reposts_delta,
            saves_delta, snapshots)
    select d.video_id, max(d.external_video_id), date_trunc('week', d.day)::date,
           sum(d.views_delta), sum(d.likes_delta), sum(d.comments_delta), sum(d.reposts_delta), sum(d.saves_delta),
           sum(d.snapshots)
      from pg_temp.refresh_daily d join pg_temp.refresh_videos r on r.video_id = d.video_id
     where not r.late and not d.new_week
     group by d.video_id, date_trunc('week', d.day)::date
     order by 1, 3
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

    steps_ms := steps_ms || jsonb_build_object('weekly', analytics.ms_since(t));
    t := clock_timestamp();
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
        with period_changes as (
            -- each period's sums of this step's daily sums dated inside it (bigint: no numeric per row)
            select d.video_id, p.days, sum(d.views_delta)::bigint as views, sum(d.likes_delta)::bigint as likes,
                   sum(d.comments_delta)::bigint as comments, sum(d.reposts_delta)::bigint as reposts,
                   sum(d.saves_delta)::bigint as saves
              from pg_temp.refresh_daily d
              join pg_temp.refresh_videos r on r.video_id = d.video_id
             cross join (values (1::smallint), (7::smallint), (30::smallint)) p(days)
             where not r.late and d.day > growth_day - p.days and d.day <= growth_day
             group by d.video_id, p.days
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

        steps_ms := steps_ms || jsonb_build_object('growth', analytics.ms_since(t));
        t := clock_timestamp();
        -- Late videos: their days from from_day on were rewritten; sum their daily rows again (only when a
        -- rewritten day falls inside the periods). None (the usual case): not called, since with an empty
        -- list the planner may still scan the periods' daily rows of every video.
        if late_videos > 0 then
            perform analytics.resum_video_growth(growth_day, array(
                select r.video_id from pg_temp.refresh_videos r where r.late and r.from_day <= growth_day));
        end if;
        steps_ms := steps_ms || jsonb_build_object('growth_late', analytics.ms_since(t));
        t := clock_timestamp();
    end if;
    if growth_rebuilt then
        steps_ms := steps_ms || jsonb_build_object('growth_rebuild', analytics.ms_since(t));
    end if;
    t := clock_timestamp();

    -- Latest snapshot and carries: the most recent row of each video's computation window. Every video has its
    -- row from its insert on: an update joined to this step's rows, without an upsert's speculative insert.
    update analytics.video_latest_statistics l
       set external_video_id = c.external_video_id, statistics_id = c.id, created_at = c.created_at,
           views = c.views, likes = c.likes, comments = c.comments, reposts = c.reposts, saves = c.saves,
           views_kind = c.views_kind, views_carry = c.views_last, plays_carry = c.plays_last,
           likes_carry = c.likes_last, comments_carry = c.comments_last, reposts_carry = c.reposts_last,
           saves_carry = c.saves_last
      from pg_temp.refresh_contributions c
     where c.is_latest and not c.is_seed and l.video_id = c.video_id;

    steps_ms := steps_ms || jsonb_build_object('latest', analytics.ms_since(t));
    t := clock_timestamp();
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
        pg_temp.refresh_contributions, pg_temp.refresh_daily;

    steps_ms := steps_ms || jsonb_build_object('campaign_bounds', analytics.ms_since(t));
    t := clock_timestamp();
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
        'duration_ms', duration_ms,
        'steps_ms', steps_ms);
end
$$;
