-- vidstats base schema: tracking metadata and the append-only snapshot table.
--
-- Everything lives in schema `analytics`, which Supabase's Data API does not expose: the functions reach it
-- over a direct (pooled) Postgres connection, never through PostgREST.  Writers touch only these base
-- tables; read relations (increments, latest snapshot, page-view report) come in later migrations.

-- Roles are cluster-wide, so this part must be idempotent: the same cluster may hold several databases
-- migrated by this file (tests do), and a Supabase project may have had them created by hand.
do $$
declare
    role_name text;
    -- PostgreSQL 16 split membership into ADMIN / INHERIT / SET; SET ROLE needs the SET option.
    needed_privilege text := case when current_setting('server_version_num')::int >= 160000
                                  then 'SET' else 'MEMBER' end;
begin
    foreach role_name in array array['vidstats_ingest', 'vidstats_refresh', 'vidstats_reader'] loop
        if not exists (select 1 from pg_roles where rolname = role_name) then
            execute format('create role %I nologin', role_name);
        end if;
        -- The functions connect as the migration owner (`postgres` on Supabase, not a superuser there) and
        -- run every transaction under `SET LOCAL ROLE vidstats_*`, which needs this membership.
        if not pg_has_role(current_user, role_name, needed_privilege) then
            execute format('grant %I to %I', role_name, current_user);
        end if;
    end loop;
end
$$;

create schema if not exists analytics;
comment on schema analytics is
    'vidstats: video tracking metadata, append-only statistics snapshots and their read relations. '
    'Not exposed through the Data API; reached by the functions over Postgres with per-function roles.';

-- Nothing in this schema is reachable by PUBLIC (and so by anon / authenticated / service_role).
revoke all on schema analytics from public;
grant usage on schema analytics to vidstats_ingest, vidstats_refresh, vidstats_reader;
-- Functions are executable by PUBLIC by default (and per-schema default privileges cannot take that away):
-- every function below revokes it explicitly and grants execution role by role.

create table analytics.bloggers (
    id               uuid primary key default gen_random_uuid(),
    platform         text not null check (platform in ('tiktok', 'instagram', 'youtube')),
    platform_user_id text not null check (platform_user_id <> ''),
    username         text,
    profile_url      text,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    constraint bloggers_platform_user_key unique (platform, platform_user_id)
);
comment on table analytics.bloggers is 'Creators whose videos are tracked, one row per platform account.';

create table analytics.videos (
    id                  uuid primary key default gen_random_uuid(),
    platform            text not null check (platform in ('tiktok', 'instagram', 'youtube')),
    external_video_id   text not null check (external_video_id <> ''),
    url                 text not null,
    blogger_id          uuid references analytics.bloggers (id) on delete set null,
    caption             text,
    published_at        timestamptz,
    -- active: fetched nightly; stopped: by a user or after its campaigns ended; gone: the platform says so.
    tracking_state      text not null default 'active' check (tracking_state in ('active', 'stopped', 'gone')),
    tracking_started_at timestamptz not null default now(),
    tracking_stopped_at timestamptz,
    last_fetched_at     timestamptz,
    last_error          text,
    last_error_at       timestamptz,
    created_at          timestamptz not null default now(),
    constraint videos_platform_external_id_key unique (platform, external_video_id)
);
comment on table analytics.videos is 'Tracked videos; statistics live in video_statistics.';
create index videos_blogger_id_idx on analytics.videos (blogger_id);
-- The nightly refresh walks active videos by keyset on id.
create index videos_active_id_idx on analytics.videos (id) where tracking_state = 'active';

create table analytics.campaigns (
    id         uuid primary key default gen_random_uuid(),
    name       text not null check (length(btrim(name)) between 1 and 200),
    starts_at  timestamptz not null,
    ends_at    timestamptz,
    created_at timestamptz not null default now(),
    constraint campaigns_window_check check (ends_at is null or ends_at > starts_at)
);
comment on table analytics.campaigns is 'Influencer campaigns: a time window and the videos in it.';

create table analytics.campaign_videos (
    campaign_id uuid not null references analytics.campaigns (id) on delete cascade,
    video_id    uuid not null references analytics.videos (id) on delete cascade,
    -- Increments count for a campaign only from this moment on (a video added mid-campaign).
    added_at    timestamptz not null default now(),
    primary key (campaign_id, video_id)
);
create index campaign_videos_video_id_idx on analytics.campaign_videos (video_id);

-- The snapshot table, exactly the seed's columns plus an id.  Append-only: one row per fetch.
-- The id comes from a sequence so an incremental refresh can use it as its watermark.
create sequence analytics.video_statistics_id_seq as bigint;

create table analytics.video_statistics (
    id                bigint not null default nextval('analytics.video_statistics_id_seq'),
    video_id          uuid not null references analytics.videos (id),
    external_video_id text not null,
    -- NULL means the platform did not report the counter (hidden likes, no saves field), never 0.
    views             bigint check (views >= 0),
    likes             bigint check (likes >= 0),
    comments          bigint check (comments >= 0),
    reposts           bigint check (reposts >= 0),
    saves             bigint check (saves >= 0),
    created_at        timestamptz not null default now(),
    -- A partitioned table's unique keys must contain the partition key.
    primary key (id, created_at)
) partition by range (created_at);
alter sequence analytics.video_statistics_id_seq owned by analytics.video_statistics.id;
comment on table analytics.video_statistics is
    'Append-only statistics snapshots, one row per fetch, partitioned by month of created_at (UTC).';

-- "Snapshots of one video in time order" (latest snapshot, the previous snapshot of a late row).
create index video_statistics_video_time_idx on analytics.video_statistics (video_id, created_at, id);
-- Time-range scans inside a month partition: rows arrive roughly in time order, so BRIN is tiny.
create index video_statistics_created_at_brin on analytics.video_statistics using brin (created_at);

-- Rows outside every monthly partition land here, so an insert never fails for want of a partition.
create table analytics.video_statistics_default partition of analytics.video_statistics default;

-- Creates the monthly partitions from p_from's month through p_months_ahead months after the current one.
-- Rows already in the default partition for a new month are moved into it first, so attaching never fails.
-- Returns the names of the partitions it created (none when all exist: safe to call on every refresh).
create function analytics.create_video_statistics_partitions(
    p_months_ahead integer default 3,
    p_from         date default null
) returns setof text
language plpgsql
security definer
set search_path = ''
as $$
declare
    current_month date := date_trunc('month', now() at time zone 'UTC')::date;
    month_start   date := date_trunc('month', coalesce(p_from, current_month - 1))::date;
    last_month    date := (current_month + make_interval(months => greatest(p_months_ahead, 0)))::date;
    lower_bound   timestamptz;
    upper_bound   timestamptz;
    partition_name text;
begin
    while month_start <= last_month loop
        partition_name := format('video_statistics_p%s', to_char(month_start, 'YYYYMM'));
        -- Bounds are UTC instants, whatever the session's TimeZone.
        lower_bound := month_start::timestamp at time zone 'UTC';
        upper_bound := (month_start + interval '1 month')::timestamp at time zone 'UTC';
        if to_regclass(format('analytics.%I', partition_name)) is null then
            execute format(
                'create table analytics.%I (like analytics.video_statistics including defaults including constraints)',
                partition_name);
            execute format(
                'with moved as (delete from analytics.video_statistics_default'
                '                where created_at >= $1 and created_at < $2 returning *)'
                ' insert into analytics.%I select * from moved', partition_name)
                using lower_bound, upper_bound;
            execute format(
                'alter table analytics.video_statistics attach partition analytics.%I for values from (%L) to (%L)',
                partition_name, lower_bound, upper_bound);
            return next partition_name;
        end if;
        month_start := (month_start + interval '1 month')::date;
    end loop;
end
$$;
comment on function analytics.create_video_statistics_partitions(integer, date) is
    'Creates monthly video_statistics partitions ahead (idempotent); the mv_refresh function calls it.';

select analytics.create_video_statistics_partitions(3, (date_trunc('month', now() at time zone 'UTC') - interval '1 month')::date);

-- Least privilege, per function (seed 003's service isolation, enforced by Postgres).
-- vidstats_ingest (queue processor, tracking flows): upserts metadata, appends snapshots, never reads them.
grant select, insert, update on analytics.bloggers, analytics.videos to vidstats_ingest;
grant select, insert on analytics.campaign_videos to vidstats_ingest;
grant select on analytics.campaigns to vidstats_ingest;
grant insert on analytics.video_statistics to vidstats_ingest;
grant usage on sequence analytics.video_statistics_id_seq to vidstats_ingest;

-- vidstats_refresh (mv_refresh): reads the base tables; writes only the read relations (later migrations).
grant select on analytics.bloggers, analytics.videos, analytics.campaigns, analytics.campaign_videos,
    analytics.video_statistics to vidstats_refresh;
revoke all on function analytics.create_video_statistics_partitions(integer, date) from public;
grant execute on function analytics.create_video_statistics_partitions(integer, date) to vidstats_refresh;

-- vidstats_reader (dashboard API, Sheets export): tracking metadata it may edit, never the snapshots.
grant select, insert, update on analytics.videos, analytics.bloggers, analytics.campaigns to vidstats_reader;
grant select, insert, update, delete on analytics.campaign_videos to vidstats_reader;
