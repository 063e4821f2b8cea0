-- Workspaces: who may see and do what (issue 14), enforced by Postgres as well as by the API.
--
-- A workspace (an agency, a brand team) has members, each an owner, an editor or a viewer. Campaigns and
-- blogger batches belong to a workspace; a workspace tracks a video through its own workspace_videos row, so a
-- platform video tracked by several workspaces stays one videos row, fetched once per schedule.
--
-- The caller's identity is set per transaction the way Supabase's Data API does it (PostgREST):
--   request.jwt.claims   the verified access token's claims (JSON); analytics.current_user_id() is its `sub`,
--                        like auth.uid();
--   request.headers      the request's headers (JSON); `x-workspace-id` names the workspace the request is
--                        about. analytics.current_workspace_id() is that workspace only if the caller is a
--                        member of it (NULL otherwise), so a forged header alone opens nothing.
-- Row-level security keys every relation the reader role (the dashboard API) reads on that workspace: a query
-- that forgets its filter returns nothing of another workspace, and without claims it returns nothing at all.
-- The writers (ingest, refresh) and the export (vidstats_export, a new role: the Sheets export and the CLI's
-- CSV export, which are operators' jobs, not end users) have explicit see-everything policies of their own:
-- BYPASSRLS is not available on Supabase. The owner (postgres) owns the tables and so is not subject to RLS;
-- the security definer functions of the read model run as it.

do $$
declare
    needed_privilege text := case when current_setting('server_version_num')::int >= 160000
                                  then 'SET' else 'MEMBER' end;
begin
    if not exists (select 1 from pg_roles where rolname = 'vidstats_export') then
        create role vidstats_export nologin;
    end if;
    if not pg_has_role(current_user, 'vidstats_export', needed_privilege) then
        execute format('grant %I to %I', 'vidstats_export', current_user);
    end if;
end
$$;
grant usage on schema analytics to vidstats_export;

-- ---- tables ------------------------------------------------------------------------------------------------

create table analytics.workspaces (
    id         uuid primary key default gen_random_uuid(),
    name       text not null check (length(btrim(name)) between 1 and 200),
    created_at timestamptz not null default now()
);
comment on table analytics.workspaces is 'An agency or a brand team: its members, campaigns and tracked videos.';

create table analytics.workspace_members (
    workspace_id uuid not null references analytics.workspaces (id) on delete cascade,
    -- Supabase Auth's user id (auth.users.id, the token's `sub`); no foreign key: auth lives in another schema.
    user_id      uuid not null,
    role         text not null check (role in ('owner', 'editor', 'viewer')),
    added_at     timestamptz not null default now(),
    primary key (workspace_id, user_id)
);
create index workspace_members_user_id_idx on analytics.workspace_members (user_id);
comment on table analytics.workspace_members is
    'Members of a workspace: owner (members, everything), editor (campaigns, tracking, exports), viewer (reads).';

create table analytics.workspace_videos (
    workspace_id uuid not null references analytics.workspaces (id) on delete cascade,
    video_id     uuid not null references analytics.videos (id) on delete cascade,
    -- When this workspace started tracking the video (each workspace its own).
    added_at     timestamptz not null default now(),
    -- This workspace stopped tracking it; the video is fetched while any workspace still tracks it.
    stopped_at   timestamptz,
    primary key (workspace_id, video_id)
);
create index workspace_videos_video_id_idx on analytics.workspace_videos (video_id);
comment on table analytics.workspace_videos is
    'A workspace''s tracking of a video: the workspace sees the video, its figures and its creator through it.';

-- ---- the caller ----------------------------------------------------------------------------------------------

-- The token's `sub` (auth.uid()'s equivalent): NULL without claims, or when `sub` is not a user id.
create function analytics.current_user_id()
returns uuid
language sql
stable
set search_path = ''
as $$
    select case when sub ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then sub::uuid end
      from (select nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub' as sub) c
$$;

-- The caller's role in the workspace the request names (x-workspace-id), NULL when not a member. Security
-- definer: it reads the membership whatever the calling role may read.
create function analytics.current_workspace_role()
returns text
language sql
stable
security definer
set search_path = ''
as $$
    select m.role
      from (select nullif(current_setting('request.headers', true), '')::jsonb ->> 'x-workspace-id' as ws) h
      join analytics.workspace_members m
        on h.ws ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
       and m.workspace_id = h.ws::uuid
       and m.user_id = analytics.current_user_id()
$$;

-- Whether the caller is a member of any workspace (the API tells such a user to ask to be added).
create function analytics.current_user_has_workspace()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select exists (select 1 from analytics.workspace_members m where m.user_id = analytics.current_user_id())
$$;

-- The workspace the request names, if the caller is a member of it.
create function analytics.current_workspace_id()
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
    select case when analytics.current_workspace_role() is not null
                then (current_setting('request.headers', true)::jsonb ->> 'x-workspace-id')::uuid end
$$;

-- The same, if the caller may change things there (owner, editor): what every write policy checks.
create function analytics.editable_workspace_id()
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
    select case when analytics.current_workspace_role() in ('owner', 'editor')
                then (current_setting('request.headers', true)::jsonb ->> 'x-workspace-id')::uuid end
$$;

-- A command's transaction starts with this: the caller's right to edit checked in the same transaction as
-- its writes (a member removed a moment ago writes nothing).
create function analytics.require_workspace_editor()
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    ws uuid := analytics.editable_workspace_id();
begin
    if ws is null then
        raise exception 'the caller may not edit this workspace' using errcode = 'insufficient_privilege';
    end if;
    return ws;
end
$$;

-- ---- existing rows go to a default workspace ---------------------------------------------------------------

-- A fixed id, so an operator (and the CLI) can name it; no members: an operator adds the first owner.
insert into analytics.workspaces (id, name) values ('00000000-0000-4000-8000-000000000001', 'Default workspace');

alter table analytics.campaigns add column workspace_id uuid references analytics.workspaces (id);
update analytics.campaigns set workspace_id = '00000000-0000-4000-8000-000000000001';
alter table analytics.campaigns
    alter column workspace_id set not null,
    -- A campaign created through the API belongs to the caller's workspace (NULL, refused, for anyone else).
    alter column workspace_id set default analytics.editable_workspace_id();
create index campaigns_workspace_id_created_at_idx on analytics.campaigns (workspace_id, created_at desc, id desc);

alter table analytics.blogger_batches add column workspace_id uuid references analytics.workspaces (id);
update analytics.blogger_batches set workspace_id = '00000000-0000-4000-8000-000000000001';
alter table analytics.blogger_batches
    alter column workspace_id set not null,
    alter column workspace_id set default analytics.editable_workspace_id();

insert into analytics.workspace_videos (workspace_id, video_id, added_at, stopped_at)
select '00000000-0000-4000-8000-000000000001', v.id, v.tracking_started_at,
       case when v.tracking_state = 'stopped' then coalesce(v.tracking_stopped_at, now()) end
  from analytics.videos v;

-- A workspace stops tracking a video; the video itself stops when no workspace tracks it any more.
create function analytics.stop_workspace_tracking(p_video_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    ws uuid := analytics.require_workspace_editor();
begin
    update analytics.workspace_videos set stopped_at = now()
     where workspace_id = ws and video_id = p_video_id and stopped_at is null;
    if not exists (select 1 from analytics.workspace_videos
                    where video_id = p_video_id and stopped_at is null) then
        update analytics.videos set tracking_state = 'stopped', tracking_stopped_at = now()
         where id = p_video_id and tracking_state = 'active';
    end if;
end
$$;

-- ---- views read with the caller's rights -------------------------------------------------------------------

alter view analytics.videos_with_statistics_fast set (security_invoker = true);
alter view analytics.campaign_totals set (security_invoker = true);
alter view analytics.blogger_totals set (security_invoker = true);

-- ---- row-level security --------------------------------------------------------------------------------------

alter table analytics.workspaces enable row level security;
alter table analytics.workspace_members enable row level security;
alter table analytics.workspace_videos enable row level security;
alter table analytics.videos enable row level security;
alter table analytics.bloggers enable row level security;
alter table analytics.campaigns enable row level security;
alter table analytics.campaign_videos enable row level security;
alter table analytics.campaign_video_bounds enable row level security;
alter table analytics.blogger_batches enable row level security;
alter table analytics.video_latest_statistics enable row level security;
alter table analytics.video_growth enable row level security;
alter table analytics.mv_video_daily_increments enable row level security;
alter table analytics.mv_video_weekly_increments enable row level security;

-- The reader (dashboard API): the caller's workspace only. `(select f())` makes each helper an initplan,
-- evaluated once per query rather than once per row (Supabase's advice, and its linter's auth_rls_initplan).
-- The video-keyed policies probe workspace_videos' primary key per row with a scalar subquery, not EXISTS: the
-- planner cannot know the workspace's size and would hash all of its tracked videos for every relation of
-- every query (every video of the Default workspace after this migration: 3-10x slower pages), while a probe
-- costs what the page scans.
create policy workspaces_reader_select on analytics.workspaces for select to vidstats_reader
    using (exists (select 1 from analytics.workspace_members m
                    where m.workspace_id = workspaces.id and m.user_id = (select analytics.current_user_id())));
create policy workspace_members_reader_select on analytics.workspace_members for select to vidstats_reader
    using (user_id = (select analytics.current_user_id()));
create policy workspace_videos_reader_select on analytics.workspace_videos for select to vidstats_reader
    using (workspace_id = (select analytics.current_workspace_id()));

create policy videos_reader_select on analytics.videos for select to vidstats_reader
    using ((select true from analytics.workspace_videos wv
             where wv.video_id = videos.id and wv.workspace_id = (select analytics.current_workspace_id())));
-- A creator is visible through the workspace's videos (the videos policy applies inside).
create policy bloggers_reader_select on analytics.bloggers for select to vidstats_reader
    using (exists (select 1 from analytics.videos v where v.blogger_id = bloggers.id));

create policy campaigns_reader_select on analytics.campaigns for select to vidstats_reader
    using (workspace_id = (select analytics.current_workspace_id()));
create policy campaigns_reader_insert on analytics.campaigns for insert to vidstats_reader
    with check (workspace_id = (select analytics.editable_workspace_id()));
create policy campaigns_reader_update on analytics.campaigns for update to vidstats_reader
    using (workspace_id = (select analytics.editable_workspace_id()))
    with check (workspace_id = (select analytics.editable_workspace_id()));

create policy campaign_videos_reader_select on analytics.campaign_videos for select to vidstats_reader
    using (exists (select 1 from analytics.campaigns c where c.id = campaign_videos.campaign_id));
-- Only the workspace's own videos join its campaigns.
create policy campaign_videos_reader_insert on analytics.campaign_videos for insert to vidstats_reader
    with check (exists (select 1 from analytics.campaigns c
                         where c.id = campaign_videos.campaign_id
                           and c.workspace_id = (select analytics.editable_workspace_id()))
                and exists (select 1 from analytics.workspace_videos wv
                             where wv.video_id = campaign_videos.video_id
                               and wv.workspace_id = (select analytics.editable_workspace_id())));
create policy campaign_videos_reader_update on analytics.campaign_videos for update to vidstats_reader
    using (exists (select 1 from analytics.campaigns c
                    where c.id = campaign_videos.campaign_id
                      and c.workspace_id = (select analytics.editable_workspace_id())));
create policy campaign_videos_reader_delete on analytics.campaign_videos for delete to vidstats_reader
    using (exists (select 1 from analytics.campaigns c
                    where c.id = campaign_videos.campaign_id
                      and c.workspace_id = (select analytics.editable_workspace_id())));

create policy campaign_video_bounds_reader_select on analytics.campaign_video_bounds for select to vidstats_reader
    using (exists (select 1 from analytics.campaigns c where c.id = campaign_video_bounds.campaign_id));

create policy blogger_batches_reader_select on analytics.blogger_batches for select to vidstats_reader
    using (workspace_id = (select analytics.current_workspace_id()));
create policy blogger_batches_reader_insert on analytics.blogger_batches for insert to vidstats_reader
    with check (workspace_id = (select analytics.editable_workspace_id()));

-- The read relations keyed by video: the workspace's videos only.
create policy video_latest_statistics_reader_select on analytics.video_latest_statistics
    for select to vidstats_reader
    using ((select true from analytics.workspace_videos wv
             where wv.video_id = video_latest_statistics.video_id
               and wv.workspace_id = (select analytics.current_workspace_id())));
create policy video_growth_reader_select on analytics.video_growth for select to vidstats_reader
    using ((select true from analytics.workspace_videos wv
             where wv.video_id = video_growth.video_id
               and wv.workspace_id = (select analytics.current_workspace_id())));
create policy mv_video_daily_increments_reader_select on analytics.mv_video_daily_increments
    for select to vidstats_reader
    using ((select true from analytics.workspace_videos wv
             where wv.video_id = mv_video_daily_increments.video_id
               and wv.workspace_id = (select analytics.current_workspace_id())));
create policy mv_video_weekly_increments_reader_select on analytics.mv_video_weekly_increments
    for select to vidstats_reader
    using ((select true from analytics.workspace_videos wv
             where wv.video_id = mv_video_weekly_increments.video_id
               and wv.workspace_id = (select analytics.current_workspace_id())));

-- The writers and the export are not end users: every row, for what their grants allow.
create policy workspaces_export_select on analytics.workspaces for select to vidstats_export using (true);
create policy workspace_videos_ingest_all on analytics.workspace_videos for all to vidstats_ingest
    using (true) with check (true);
create policy workspace_videos_refresh_select on analytics.workspace_videos for select to vidstats_refresh
    using (true);
create policy workspace_videos_export_select on analytics.workspace_videos for select to vidstats_export
    using (true);
create policy videos_ingest_all on analytics.videos for all to vidstats_ingest using (true) with check (true);
create policy videos_refresh_select on analytics.videos for select to vidstats_refresh using (true);
create policy videos_export_select on analytics.videos for select to vidstats_export using (true);
create policy bloggers_ingest_all on analytics.bloggers for all to vidstats_ingest using (true) with check (true);
create policy bloggers_refresh_select on analytics.bloggers for select to vidstats_refresh using (true);
create policy bloggers_export_select on analytics.bloggers for select to vidstats_export using (true);
create policy campaigns_ingest_select on analytics.campaigns for select to vidstats_ingest using (true);
create policy campaigns_refresh_select on analytics.campaigns for select to vidstats_refresh using (true);
create policy campaigns_export_select on analytics.campaigns for select to vidstats_export using (true);
create policy campaign_videos_ingest_all on analytics.campaign_videos for all to vidstats_ingest
    using (true) with check (true);
create policy campaign_videos_refresh_select on analytics.campaign_videos for select to vidstats_refresh
    using (true);
create policy campaign_videos_export_select on analytics.campaign_videos for select to vidstats_export
    using (true);
create policy campaign_video_bounds_refresh_select on analytics.campaign_video_bounds
    for select to vidstats_refresh using (true);
create policy campaign_video_bounds_export_select on analytics.campaign_video_bounds
    for select to vidstats_export using (true);
create policy blogger_batches_ingest_all on analytics.blogger_batches for all to vidstats_ingest
    using (true) with check (true);
create policy video_latest_statistics_refresh_select on analytics.video_latest_statistics
    for select to vidstats_refresh using (true);
create policy video_latest_statistics_export_select on analytics.video_latest_statistics
    for select to vidstats_export using (true);
create policy video_growth_export_select on analytics.video_growth for select to vidstats_export using (true);
create policy mv_video_daily_increments_refresh_select on analytics.mv_video_daily_increments
    for select to vidstats_refresh using (true);
create policy mv_video_daily_increments_export_select on analytics.mv_video_daily_increments
    for select to vidstats_export using (true);
create policy mv_video_weekly_increments_refresh_select on analytics.mv_video_weekly_increments
    for select to vidstats_refresh using (true);
create policy mv_video_weekly_increments_export_select on analytics.mv_video_weekly_increments
    for select to vidstats_export using (true);

-- ---- privileges ----------------------------------------------------------------------------------------------

revoke all on function analytics.current_user_id() from public;
revoke all on function analytics.current_workspace_role() from public;
revoke all on function analytics.current_workspace_id() from public;
revoke all on function analytics.current_user_has_workspace() from public;
revoke all on function analytics.editable_workspace_id() from public;
revoke all on function analytics.require_workspace_editor() from public;
revoke all on function analytics.stop_workspace_tracking(uuid) from public;
-- Policies and column defaults run with the caller's rights: the reader needs the helpers they call.
grant execute on function analytics.current_user_id(), analytics.current_workspace_role(),
    analytics.current_user_has_workspace(), analytics.current_workspace_id(), analytics.editable_workspace_id(), analytics.require_workspace_editor(),
    analytics.stop_workspace_tracking(uuid)
    to vidstats_reader;
-- A tracking command's ingest transaction checks the caller in the same transaction as its writes.
grant execute on function analytics.require_workspace_editor() to vidstats_ingest;

-- The reader stops tracking through stop_workspace_tracking() and never writes videos or creators itself.
revoke insert, update on analytics.videos, analytics.bloggers from vidstats_reader;
grant select on analytics.workspaces, analytics.workspace_members, analytics.workspace_videos to vidstats_reader;
grant select, insert, update on analytics.workspace_videos to vidstats_ingest;
grant select on analytics.workspace_videos to vidstats_refresh;

-- The export reads what the dashboard reads, of every workspace.
grant select on analytics.workspaces, analytics.workspace_videos, analytics.videos, analytics.bloggers,
    analytics.campaigns, analytics.campaign_videos, analytics.campaign_video_bounds,
    analytics.mv_video_daily_increments, analytics.mv_video_weekly_increments, analytics.video_latest_statistics,
    analytics.videos_with_statistics_fast, analytics.video_growth, analytics.read_model_state,
    analytics.campaign_totals, analytics.blogger_totals
    to vidstats_export;
grant execute on function analytics.campaign_video_days(uuid, date, date),
    analytics.campaign_video_growth(uuid, date, date), analytics.campaign_series(uuid, date, date, text),
    analytics.video_period_growth(uuid[], date, date), analytics.video_series(uuid, date, date, text),
    analytics.refresh_status()
    to vidstats_export;
