-- Retention: raw snapshots older than a configured age are compacted, one whole month partition at a time,
-- to what the read model needs to give the same answers. For each video and UTC day of the month it keeps:
--   * the day's last snapshot (created_at, id order, as the read model's "last");
--   * for each series (views of kind views, views of kind plays, likes, comments, reposts, saves) the day's
--     last snapshot with a value: a day's contributions to a series sum to (its last value that day) minus
--     (its last value before the day), so these rows keep every daily sum, NULL or not, and every later day's;
--   * the video's first snapshot ever with a value of a series, when it is in this month: a series' first
--     value contributes 0 and is the baseline of its day's sum (keeping only the day's last would turn the
--     first day's growth into 0);
--   * every snapshot of a day on which one of the video's campaigns starts counting or stops (the partial-day
--     growth of campaign_video_bounds sums only the snapshots after the entry or before the exit).
-- Other snapshots go. Deltas, growth, latest rows and campaign figures are unchanged; `snapshots` counts in
-- the daily and weekly increments count the snapshots kept, so they are updated with the swap.
--
-- The compacted copy is built beside the live partition (writers and readers go on), then swapped in by one
-- short transaction: detach, attach the copy (its indexes, foreign key and bounds check already built, so the
-- attach scans nothing), drop the old one. Never a DELETE over the live table.

create table analytics.video_statistics_compactions (
    partition_name text primary key,
    month          date not null,
    cutoff         timestamptz not null,
    rows_before    bigint not null,
    rows_after     bigint not null,
    compacted_at   timestamptz not null default now()
);
comment on table analytics.video_statistics_compactions is
    'Month partitions of video_statistics compacted by retention, with their row counts before and after.';

-- The (id, created_at) of the snapshots in [p_from, p_to) that compaction keeps (see above). p_from and p_to
-- bound one month partition (pruned to it).
create function analytics.video_statistics_kept_rows(p_from timestamptz, p_to timestamptz)
returns table (id bigint, created_at timestamptz)
language sql
stable
set search_path = ''
as $$
    with part as (
        select s.id, s.video_id, s.created_at, (s.created_at at time zone 'UTC')::date as day,
               case when s.views_kind = 'views' then s.views end as views,
               case when s.views_kind = 'plays' then s.views end as plays,
               s.likes, s.comments, s.reposts, s.saves
          from analytics.video_statistics s
         where s.created_at >= p_from and s.created_at < p_to
    ), days as (
        -- (created_at, id) of the day's last row, and of its last row with each series' value
        select p.video_id, p.day,
               max(array[extract(epoch from p.created_at)::numeric, p.id]) as last_row,
               max(array[extract(epoch from p.created_at)::numeric, p.id]) filter (where p.views is not null) as views_row,
               max(array[extract(epoch from p.created_at)::numeric, p.id]) filter (where p.plays is not null) as plays_row,
               max(array[extract(epoch from p.created_at)::numeric, p.id]) filter (where p.likes is not null) as likes_row,
               max(array[extract(epoch from p.created_at)::numeric, p.id])
                   filter (where p.comments is not null) as comments_row,
               max(array[extract(epoch from p.created_at)::numeric, p.id])
                   filter (where p.reposts is not null) as reposts_row,
               max(array[extract(epoch from p.created_at)::numeric, p.id]) filter (where p.saves is not null) as saves_row
          from part p
         group by p.video_id, p.day
    ), firsts as (
        -- the month's first row with each series' value, per video
        select p.video_id,
               min(array[extract(epoch from p.created_at)::numeric, p.id]) filter (where p.views is not null) as views_row,
               min(array[extract(epoch from p.created_at)::numeric, p.id]) filter (where p.plays is not null) as plays_row,
               min(array[extract(epoch from p.created_at)::numeric, p.id]) filter (where p.likes is not null) as likes_row,
               min(array[extract(epoch from p.created_at)::numeric, p.id])
                   filter (where p.comments is not null) as comments_row,
               min(array[extract(epoch from p.created_at)::numeric, p.id])
                   filter (where p.reposts is not null) as reposts_row,
               min(array[extract(epoch from p.created_at)::numeric, p.id]) filter (where p.saves is not null) as saves_row
          from part p
         group by p.video_id
    ), first_ever as (
        -- ... kept when no earlier row of the video has a value of that series (one index probe each)
        select f.video_id, x.row_key
          from firsts f
         cross join lateral (values
               ('views', f.views_row), ('plays', f.plays_row), ('likes', f.likes_row),
               ('comments', f.comments_row), ('reposts', f.reposts_row), ('saves', f.saves_row)) x(series, row_key)
         where x.row_key is not null
           and not exists (
               select 1 from analytics.video_statistics e
                where e.video_id = f.video_id and e.created_at < p_from
                  and case x.series
                          when 'views' then e.views_kind = 'views' and e.views is not null
                          when 'plays' then e.views_kind = 'plays' and e.views is not null
                          when 'likes' then e.likes is not null
                          when 'comments' then e.comments is not null
                          when 'reposts' then e.reposts is not null
                          else e.saves is not null end)
    ), boundary_days as (
        -- days a campaign of the video starts or stops counting on: kept whole
        select cv.video_id, (greatest(c.starts_at, cv.added_at) at time zone 'UTC')::date as day
          from analytics.campaign_videos cv join analytics.campaigns c on c.id = cv.campaign_id
        union
        select cv.video_id, ((c.ends_at - interval '1 microsecond') at time zone 'UTC')::date
          from analytics.campaign_videos cv join analytics.campaigns c on c.id = cv.campaign_id
         where c.ends_at is not null
    ), kept_ids as (
        select k.row_key[2]::bigint as id
          from days d
         cross join lateral (values (d.last_row), (d.views_row), (d.plays_row), (d.likes_row), (d.comments_row),
                                    (d.reposts_row), (d.saves_row)) k(row_key)
         where k.row_key is not null
        union
        select f.row_key[2]::bigint from first_ever f
        union
        select p.id from part p join boundary_days b on b.video_id = p.video_id and b.day = p.day
    )
    select p.id, p.created_at from part p join kept_ids k on k.id = p.id
$$;
comment on function analytics.video_statistics_kept_rows(timestamptz, timestamptz) is
    'The snapshots of [p_from, p_to) that retention keeps: each day''s last, each series'' last and first value, '
    'campaign boundary days whole.';

-- The month partitions retention may compact at p_cutoff: wholly older than it (a partition with any row at or
-- after the cutoff is left alone), with the compaction already done if any. The default partition never.
create function analytics.snapshot_retention_candidates(p_cutoff timestamptz)
returns table (partition_name text, month date, lower_bound timestamptz, upper_bound timestamptz,
               compacted_at timestamptz, estimated_rows bigint)
language sql
stable
security definer
set search_path = ''
as $$
    select c.relname::text, m.month, m.month::timestamp at time zone 'UTC',
           (m.month + interval '1 month')::timestamp at time zone 'UTC', x.compacted_at,
           greatest(c.reltuples, 0)::bigint  -- the planner's estimate (0: never analyzed)
      from pg_catalog.pg_inherits i
      join pg_catalog.pg_class c on c.oid = i.inhrelid
     cross join lateral (select to_date(substr(c.relname, 19), 'YYYYMM') as month) m
      left join analytics.video_statistics_compactions x on x.partition_name = c.relname
     where i.inhparent = 'analytics.video_statistics'::regclass
       and c.relname ~ '^video_statistics_p[0-9]{6}$'
       and (m.month + interval '1 month')::timestamp at time zone 'UTC' <= p_cutoff
     order by m.month
$$;

-- The bounds of a month partition retention may compact, or an error saying why not.
create function analytics.snapshot_retention_partition(p_month date, p_cutoff timestamptz,
                                                       out partition_name text, out lower_bound timestamptz,
                                                       out upper_bound timestamptz)
language plpgsql
stable
set search_path = ''
as $$
begin
    if p_cutoff > now() then
        raise exception 'the retention cutoff % is in the future', p_cutoff using errcode = '22023';
    end if;
    select c.partition_name, c.lower_bound, c.upper_bound into partition_name, lower_bound, upper_bound
      from analytics.snapshot_retention_candidates(p_cutoff) c
     where c.month = date_trunc('month', p_month)::date;
    if partition_name is null then
        raise exception 'no month partition of video_statistics for % wholly older than %', p_month, p_cutoff
            using errcode = '22023';
    end if;
end
$$;

-- What compacting the month would keep, without changing anything (dry run).
create function analytics.plan_snapshot_compaction(p_month date, p_cutoff timestamptz)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    target record;
    rows_before bigint;
    rows_after bigint;
begin
    select * into target from analytics.snapshot_retention_partition(p_month, p_cutoff);
    execute format('select count(*) from analytics.%I', target.partition_name) into rows_before;
    select count(*) into rows_after
      from analytics.video_statistics_kept_rows(target.lower_bound, target.upper_bound);
    return jsonb_build_object('partition', target.partition_name, 'status', 'planned',
                              'rows_before', rows_before, 'rows_after', rows_after);
end
$$;

-- Step 1, in its own transaction: the compacted copy of the month, beside the live partition, with the
-- partition's indexes, foreign key (validated) and a check of its bounds, so attaching it scans nothing. It
-- takes no lock on the partition beyond reading it: readers, writers and the refresh go on.
create function analytics.build_snapshot_compaction(p_month date, p_cutoff timestamptz)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    target record;
    copy_name text;
    max_id bigint;
    mark bigint := (select watermark from analytics.read_model_state where name = 'video_statistics');
    rows_before bigint;
    rows_after bigint;
begin
    select * into target from analytics.snapshot_retention_partition(p_month, p_cutoff);
    copy_name := target.partition_name || '_compact';
    if exists (select 1 from analytics.video_statistics_compactions x where x.partition_name = target.partition_name)
    then
        return jsonb_build_object('partition', target.partition_name, 'status', 'already_compacted');
    end if;
    execute format('drop table if exists analytics.%I', copy_name);  -- a copy left by a failed run
    execute format('create table analytics.%I (like analytics.video_statistics including defaults '
                   'including constraints)', copy_name);
    -- One statement, one snapshot: the copy, the partition's row count (the swap checks it is still that) and its
    -- highest id (every row must be reflected by the read model: its figures were computed from them).
    execute format('with copied as (insert into analytics.%I select s.* from analytics.%I s'
                   '                 join analytics.video_statistics_kept_rows($1, $2) k on k.id = s.id'
                   '                order by s.created_at, s.id returning 1)'
                   ' select (select count(*) from copied), count(*), max(id) from analytics.%I',
                   copy_name, target.partition_name, target.partition_name)
        into rows_after, rows_before, max_id using target.lower_bound, target.upper_bound;
    if max_id > mark then
        execute format('drop table analytics.%I', copy_name);
        return jsonb_build_object('partition', target.partition_name, 'status', 'skipped',
                                  'reason', 'the read model has not caught up with this month yet');
    end if;
    if rows_after = rows_before then  -- already minimal (one snapshot a day, or empty): no swap needed
        execute format('drop table analytics.%I', copy_name);
        insert into analytics.video_statistics_compactions (partition_name, month, cutoff, rows_before, rows_after)
        values (target.partition_name, date_trunc('month', p_month)::date, p_cutoff, rows_before, rows_after);
        return jsonb_build_object('partition', target.partition_name, 'status', 'nothing_to_remove',
                                  'rows_before', rows_before, 'rows_after', rows_after);
    end if;
    execute format('alter table analytics.%I add primary key (id, created_at)', copy_name);
    execute format('create index on analytics.%I (video_id, created_at, id)', copy_name);
    execute format('create index on analytics.%I using brin (created_at)', copy_name);
    execute format('alter table analytics.%I add constraint %I check (created_at >= %L and created_at < %L)',
                   copy_name, copy_name || '_bounds', target.lower_bound, target.upper_bound);
    -- NOT VALID then VALIDATE: the check does not block writers of videos while it reads
    -- named as the partitions' inherited foreign key is
    execute format('alter table analytics.%I add constraint video_statistics_video_id_fkey foreign key (video_id)'
                   ' references analytics.videos (id) not valid', copy_name);
    execute format('alter table analytics.%I validate constraint video_statistics_video_id_fkey', copy_name);
    execute format('analyze analytics.%I', copy_name);
    return jsonb_build_object('partition', target.partition_name, 'status', 'built',
                              'rows_before', rows_before, 'rows_after', rows_after);
end
$$;

-- Step 2, one short transaction: the copy replaces the partition, the read model's snapshot counts follow.
-- Runs between refreshes (the refresh's lock): a busy refresh or a writer holding the table makes it return
-- 'busy' and change nothing.
create function analytics.swap_snapshot_compaction(p_month date, p_cutoff timestamptz, p_rows_before bigint)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    target record;
    copy_name text;
    index_name text;
    swap_started timestamptz;
    rows_now bigint;
    rows_after bigint;
    first_week date;
begin
    select * into target from analytics.snapshot_retention_partition(p_month, p_cutoff);
    copy_name := target.partition_name || '_compact';
    if to_regclass(format('analytics.%I', copy_name)) is null then
        raise exception 'no compacted copy of % to swap in: build it first', target.partition_name
            using errcode = '55000';
    end if;
    if not pg_try_advisory_xact_lock(hashtext('analytics.refresh_materialized_views')) then
        return jsonb_build_object('partition', target.partition_name, 'status', 'busy',
                                  'reason', 'a refresh is running; try again');
    end if;
    perform set_config('lock_timeout', '5s', true);
    execute format('lock table analytics.%I in share mode', target.partition_name);
    execute format('select count(*) from analytics.%I', target.partition_name) into rows_now;
    if rows_now <> p_rows_before then  -- rows arrived since the copy was built: build it again
        execute format('drop table analytics.%I', copy_name);
        return jsonb_build_object('partition', target.partition_name, 'status', 'changed',
                                  'reason', 'the partition changed while its copy was built');
    end if;
    execute format('select count(*) from analytics.%I', copy_name) into rows_after;

    -- Snapshot counts of the month's days (and of the weeks they fall in) now count the snapshots kept.
    execute format(
        'update analytics.mv_video_daily_increments d set snapshots = k.n'
        '  from (select video_id, (created_at at time zone ''UTC'')::date as day, count(*)::integer as n'
        '          from analytics.%I group by 1, 2) k'
        ' where d.video_id = k.video_id and d.date = k.day and d.snapshots <> k.n', copy_name);
    first_week := date_trunc('week', target.lower_bound at time zone 'UTC')::date;
    update analytics.mv_video_weekly_increments w
       set snapshots = s.n
      from (select d.video_id, date_trunc('week', d.date)::date as week_start, sum(d.snapshots)::integer as n
              from analytics.mv_video_daily_increments d
             where d.date >= first_week and d.date < (target.upper_bound at time zone 'UTC')::date + 7
             group by 1, 2) s
     where w.video_id = s.video_id and w.week_start = s.week_start
       and w.week_start < (target.upper_bound at time zone 'UTC')::date and w.snapshots <> s.n;

    -- The swap: the parent is locked exclusively from here to commit (catalog changes only).
    swap_started := clock_timestamp();
    execute format('alter table analytics.video_statistics detach partition analytics.%I', target.partition_name);
    execute format('drop table analytics.%I', target.partition_name);
    execute format('alter table analytics.%I rename to %I', copy_name, target.partition_name);
    execute format('alter table analytics.video_statistics attach partition analytics.%I for values from (%L) to (%L)',
                   target.partition_name, target.lower_bound, target.upper_bound);
    execute format('alter table analytics.%I drop constraint %I', target.partition_name, copy_name || '_bounds');
    -- the names a partition created by create_video_statistics_partitions has
    for index_name in select c.relname from pg_catalog.pg_index i join pg_catalog.pg_class c on c.oid = i.indexrelid
                       where i.indrelid = format('analytics.%I', target.partition_name)::regclass loop
        execute format('alter index analytics.%I rename to %I', index_name,
                       replace(index_name, copy_name, target.partition_name));
    end loop;
    insert into analytics.video_statistics_compactions (partition_name, month, cutoff, rows_before, rows_after)
    values (target.partition_name, date_trunc('month', p_month)::date, p_cutoff, p_rows_before, rows_after);
    return jsonb_build_object('partition', target.partition_name, 'status', 'compacted',
                              'rows_before', p_rows_before, 'rows_after', rows_after,
                              'exclusive_ms', round(extract(epoch from clock_timestamp() - swap_started) * 1000, 1));
end
$$;

revoke all on function analytics.video_statistics_kept_rows(timestamptz, timestamptz) from public;
revoke all on function analytics.snapshot_retention_candidates(timestamptz) from public;
revoke all on function analytics.snapshot_retention_partition(date, timestamptz) from public;
revoke all on function analytics.plan_snapshot_compaction(date, timestamptz) from public;
revoke all on function analytics.build_snapshot_compaction(date, timestamptz) from public;
revoke all on function analytics.swap_snapshot_compaction(date, timestamptz, bigint) from public;
-- Retention runs from mv_refresh (and `vidstats retention run`) under the refresh role: only these entry points.
grant execute on function analytics.snapshot_retention_candidates(timestamptz),
    analytics.plan_snapshot_compaction(date, timestamptz), analytics.build_snapshot_compaction(date, timestamptz),
    analytics.swap_snapshot_compaction(date, timestamptz, bigint)
    to vidstats_refresh;
