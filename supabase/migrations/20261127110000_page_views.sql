-- Page-view analytics (seed 003): pages, hourly view counts, and the report the Analytics Service reads.
--
-- Three services, three roles: the Increments Service (vidstats_page_views) only adds views, through
-- analytics.add_page_views() and nothing else; the Wolf (vidstats_refresh) keeps page_views_report current
-- through analytics.refresh_page_views_report(); the Analytics Service (vidstats_reader) reads only
-- page_views_report and the report's freshness. Dates and hours are UTC.

-- The increments service's role. Roles are cluster-wide, so this is idempotent (as in the first migration).
do $$
declare
    needed_privilege text := case when current_setting('server_version_num')::int >= 160000
                                  then 'SET' else 'MEMBER' end;
begin
    if not exists (select 1 from pg_roles where rolname = 'vidstats_page_views') then
        create role vidstats_page_views nologin;
    end if;
    -- Functions connect as the migration owner and run under SET LOCAL ROLE, which needs this membership.
    if not pg_has_role(current_user, 'vidstats_page_views', needed_privilege) then
        execute format('grant %I to %I', 'vidstats_page_views', current_user);
    end if;
end
$$;
grant usage on schema analytics to vidstats_page_views;

create table analytics.pages (
    id         bigint generated always as identity primary key,
    -- Exactly as sent (no trimming or case folding): '/Home' and '/home' are two pages.
    name       text not null unique check (length(name) between 1 and 512 and btrim(name) <> ''),
    created_at timestamptz not null default now()
);
comment on table analytics.pages is 'Pages whose views are counted, one row per unique name (seed 003).';

-- The change marker: every insert or update of a page_views row draws a new value, so the Wolf finds the rows
-- changed since its watermark through an index instead of scanning the history.
create sequence analytics.page_views_change_seq as bigint;

-- One row per page, UTC date and hour. The primary key is the seed's composite index (page, date, hour).
create table analytics.page_views (
    page_id    bigint not null references analytics.pages (id),
    date       date not null,
    hour       smallint not null check (hour between 0 and 23),
    views      bigint not null check (views >= 0),
    change_id  bigint not null default nextval('analytics.page_views_change_seq'),
    changed_at timestamptz not null default now(),
    primary key (page_id, date, hour)
);
alter sequence analytics.page_views_change_seq owned by analytics.page_views.change_id;
comment on table analytics.page_views is
    'Views per page and UTC hour; written only through analytics.add_page_views(). change_id: see '
    'analytics.page_views_change_seq.';
create index page_views_change_id_idx on analytics.page_views (change_id);

-- The read relation: page_views joined with the page name, maintained incrementally by the Wolf. A table
-- rather than a materialized view so a refresh rewrites only the rows that changed.
create table analytics.page_views_report (
    page_id      bigint not null,
    name         text not null,
    date         date not null,
    hour         smallint not null check (hour between 0 and 23),
    views        bigint not null,
    -- The change of page_views this row reflects, and when the Wolf wrote it.
    change_id    bigint not null,
    refreshed_at timestamptz not null default now(),
    primary key (page_id, date, hour)
);
comment on table analytics.page_views_report is
    'Views per page name and UTC hour (page_views joined with pages), maintained by '
    'analytics.refresh_page_views_report(); the only relation the analytics service reads.';
-- A page by exact name or name prefix (LIKE 'prefix%' uses text_pattern_ops), over a date range.
create index page_views_report_name_date_idx
    on analytics.page_views_report (name text_pattern_ops, date, hour) include (views);
-- Every page over a date range: top-N pages, reports without a name filter.
create index page_views_report_date_idx on analytics.page_views_report (date, hour) include (page_id, name, views);

create table analytics.page_views_report_state (
    name             text primary key check (name = 'page_views'),
    watermark        bigint not null default 0,  -- every change_id <= it is reflected
    last_run_at      timestamptz,
    last_success_at  timestamptz,
    last_rows        bigint not null default 0,
    last_duration_ms numeric not null default 0,
    total_rows       bigint not null default 0
);
insert into analytics.page_views_report_state (name) values ('page_views');

-- The increments service's one way in: adds views to (page, date, hour) buckets, creating pages as needed.
-- All-or-nothing (one statement set in the caller's transaction). Runs as the owner, so the service's role
-- needs no privilege on the tables and can neither read nor change anything else.
--
-- Concurrent callers never deadlock: each locks what it needs in one global order, new page names in name
-- order, then page_views rows in (page_id, date, hour) order. Concurrent increments of the same row never
-- lose one: ON CONFLICT DO UPDATE adds to the latest committed count.
create function analytics.add_page_views(p_names text[], p_dates date[], p_hours smallint[], p_views bigint[])
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    expected_buckets bigint;
    bucket_count     bigint;
    new_pages        bigint;
begin
    if cardinality(p_names) is distinct from cardinality(p_dates)
       or cardinality(p_names) is distinct from cardinality(p_hours)
       or cardinality(p_names) is distinct from cardinality(p_views) then
        raise exception 'add_page_views: the four arrays must have the same length' using errcode = '22023';
    end if;
    if exists (select 1 from unnest(p_names, p_dates, p_hours, p_views) as i (name, date, hour, views)
                where i.name is null or i.date is null or i.hour is null or i.views is null or i.views < 1) then
        raise exception 'add_page_views: every item needs a name, date, hour and a count >= 1'
            using errcode = '22023';
    end if;
    select count(*) into expected_buckets
      from (select distinct i.name, i.date, i.hour
              from unnest(p_names, p_dates, p_hours) as i (name, date, hour)) b;

    insert into analytics.pages (name)
    select n.name
      from (select distinct i.name from unnest(p_names) as i (name)) n
     where not exists (select 1 from analytics.pages p where p.name = n.name)
     order by n.name
    on conflict (name) do nothing;
    get diagnostics new_pages = row_count;

    -- A new statement, so a new snapshot: it sees the pages other callers committed while we waited on them.
    insert into analytics.page_views as pv (page_id, date, hour, views)
    select p.id, i.date, i.hour, sum(i.views)
      from unnest(p_names, p_dates, p_hours, p_views) as i (name, date, hour, views)
      join analytics.pages p on p.name = i.name
     group by p.id, i.date, i.hour
     order by p.id, i.date, i.hour
    on conflict (page_id, date, hour) do update
       set views = pv.views + excluded.views, change_id = excluded.change_id, changed_at = excluded.changed_at;
    get diagnostics bucket_count = row_count;
    if bucket_count <> expected_buckets then  -- cannot happen; never lose views silently
        raise exception 'add_page_views: % of % buckets written', bucket_count, expected_buckets;
    end if;

    return jsonb_build_object('buckets', bucket_count, 'new_pages', new_pages);
end
$$;
comment on function analytics.add_page_views(text[], date[], smallint[], bigint[]) is
    'Increments service: adds views to page/date/hour buckets (parallel arrays), creating pages as needed.';

-- One bounded step of the Wolf's refresh of page_views_report: copies up to p_max_rows page_views rows changed
-- since the watermark (by change_id) and moves the watermark with them, in the caller's transaction. Cost
-- grows with the rows changed, not with the history. Call again while caught_up is false.
create function analytics.refresh_page_views_report(p_max_rows integer default 100000)
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
    batch_max   bigint;
    duration_ms numeric;
begin
    if p_max_rows is null or p_max_rows < 1 then
        raise exception 'refresh_page_views_report: p_max_rows must be >= 1' using errcode = '22023';
    end if;
    -- One refresh at a time; a second caller returns at once (transaction-scoped: pooler-safe).
    if not pg_try_advisory_xact_lock(hashtext('analytics.refresh_page_views_report')) then
        return jsonb_build_object('status', 'busy', 'caught_up', false,
                                  'message', 'another refresh is running; this call did nothing');
    end if;

    select watermark into old_mark from analytics.page_views_report_state where name = 'page_views' for update;

    -- change_id values commit out of order: a writer that drew 10 may commit after one that drew 11. Taking the
    -- table lock waits until every in-flight writer of page_views has finished (a writer draws its change_id
    -- only while holding ROW EXCLUSIVE on the table); then every change_id up to the sequence's current value
    -- is committed or rolled back for good. The lock is dropped at once by rolling back the sub-block. Writers
    -- queue behind the request while it waits, so it waits briefly and otherwise reports 'busy'.
    begin
        perform set_config('lock_timeout', '2s', true);
        lock table analytics.page_views in exclusive mode;
        safe_mark := coalesce(pg_sequence_last_value('analytics.page_views_change_seq'), 0);
        raise exception using errcode = 'VSLCK';
    exception
        when sqlstate 'VSLCK' then
            null;
        when lock_not_available then
            return jsonb_build_object('status', 'busy', 'caught_up', false,
                                      'message', 'page view writers stayed in flight; try again');
    end;
    perform set_config('lock_timeout', '0', true);

    -- A row changed again after safe_mark carries a newer change_id: skipped now, copied by a later step with
    -- its newer count. The report row holds the absolute count, so copying is idempotent.
    with batch as materialized (
        select pv.page_id, pv.date, pv.hour, pv.views, pv.change_id
          from analytics.page_views pv
         where pv.change_id > old_mark and pv.change_id <= safe_mark
         order by pv.change_id
         limit p_max_rows
    ), written as (
        insert into analytics.page_views_report as r (page_id, name, date, hour, views, change_id, refreshed_at)
        select b.page_id, p.name, b.date, b.hour, b.views, b.change_id, started
          from batch b join analytics.pages p on p.id = b.page_id
        on conflict (page_id, date, hour) do update
           set views = excluded.views, change_id = excluded.change_id, refreshed_at = excluded.refreshed_at
        returning r.change_id
    )
    select count(*), max(w.change_id) into batch_rows, batch_max from written w;

    -- A short batch took everything up to safe_mark (including ids burnt by rolled-back writers, or by rows
    -- changed again since): the watermark jumps there. A full batch stops at its last change_id.
    if batch_rows < p_max_rows then
        new_mark := greatest(safe_mark, old_mark);
    else
        new_mark := batch_max;
    end if;

    duration_ms := round(extract(epoch from clock_timestamp() - started) * 1000, 1);
    update analytics.page_views_report_state
       set watermark = new_mark, last_run_at = started, last_success_at = clock_timestamp(),
           last_rows = batch_rows, last_duration_ms = duration_ms, total_rows = total_rows + batch_rows
     where name = 'page_views';

    return jsonb_build_object(
        'status', 'ok',
        'rows', batch_rows,
        'watermark', new_mark,
        'caught_up', new_mark >= safe_mark,
        'duration_ms', duration_ms);
end
$$;
comment on function analytics.refresh_page_views_report(integer) is
    'Incremental refresh of page_views_report (one bounded step); returns a JSON summary.';

-- Freshness of the report, for the Wolf and the analytics service (which cannot read page_views itself).
-- oldest_pending_at: when the pending row with the lowest change_id last changed, so a lower bound of the lag
-- when a row changed several times since the last refresh.
create function analytics.page_views_report_status()
returns table (
    watermark bigint, last_run_at timestamptz, last_success_at timestamptz, last_rows bigint,
    last_duration_ms numeric, oldest_pending_at timestamptz, lag_seconds numeric
)
language sql
stable
security definer
set search_path = ''
as $$
    select st.watermark, st.last_run_at, st.last_success_at, st.last_rows, st.last_duration_ms, p.changed_at,
           coalesce(greatest(round(extract(epoch from now() - p.changed_at)::numeric, 1), 0), 0)
      from analytics.page_views_report_state st
      left join lateral (
          select pv.changed_at
            from analytics.page_views pv
           where pv.change_id > st.watermark
           order by pv.change_id
           limit 1) p on true
     where st.name = 'page_views'
$$;

-- Compares the report with page_views joined with pages, for rows whose change is at or below the watermark
-- (what the report must reflect). Full scan: for operators and tests.
create function analytics.verify_page_views_report()
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
    with mark as (
        select watermark from analytics.page_views_report_state where name = 'page_views'
    ), expected as (
        select pv.page_id, p.name, pv.date, pv.hour, pv.views
          from analytics.page_views pv join analytics.pages p on p.id = pv.page_id, mark
         where pv.change_id <= mark.watermark
    ), kept as (
        select r.page_id, r.name, r.date, r.hour, r.views
          from analytics.page_views_report r, mark
         where r.change_id <= mark.watermark
    )
    select jsonb_build_object(
        'watermark', (select watermark from mark),
        'report_rows', (select count(*) from analytics.page_views_report),
        'mismatches', (select count(*) from (
            (select * from expected except all select * from kept)
            union all
            (select * from kept except all select * from expected)) x))
$$;
comment on function analytics.verify_page_views_report() is
    'Compares page_views_report with page_views joined with pages up to the watermark; 0 mismatches = correct.';

revoke all on function analytics.add_page_views(text[], date[], smallint[], bigint[]) from public;
revoke all on function analytics.refresh_page_views_report(integer) from public;
revoke all on function analytics.page_views_report_status() from public;
revoke all on function analytics.verify_page_views_report() from public;

grant execute on function analytics.add_page_views(text[], date[], smallint[], bigint[]) to vidstats_page_views;
grant execute on function analytics.refresh_page_views_report(integer) to vidstats_refresh;
grant execute on function analytics.verify_page_views_report() to vidstats_refresh;
grant execute on function analytics.page_views_report_status() to vidstats_refresh, vidstats_reader;
grant select on analytics.page_views_report, analytics.page_views_report_state to vidstats_refresh, vidstats_reader;
