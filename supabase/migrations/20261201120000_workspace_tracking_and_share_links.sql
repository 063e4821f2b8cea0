-- Each workspace's own tracking of a video, and campaigns' read-only share links (issue 14).
--
-- 1. A video's tracking as one workspace sees it. videos.tracking_state / tracking_started_at /
--    tracking_stopped_at belong to the shared row (the video is fetched while any workspace tracks it); a workspace
--    sees its own start (workspace_videos.added_at) and its own stop (workspace_videos.stopped_at), and `gone`
--    from the video itself. analytics.workspace_video_tracking is that one definition, for the caller's workspace.
--
-- 2. Share links. A campaign's share link is a random token (>= 128 bits, made by the API) of which only the
--    sha256 is stored. Whoever holds the token reads that campaign's analytics and its videos without an account,
--    as the role vidstats_share, whose identity is the token's hash in request.headers (`x-share-token-hash`,
--    64 hex digits): its policies show only the rows of the campaign of a link that is neither revoked nor
--    expired, so a query that forgets its filter returns nothing of any other campaign.

do $$
declare
    needed_privilege text := case when current_setting('server_version_num')::int >= 160000
                                  then 'SET' else 'MEMBER' end;
begin
    if not exists (select 1 from pg_roles where rolname = 'vidstats_share') then
        create role vidstats_share nologin;
    end if;
    if not pg_has_role(current_user, 'vidstats_share', needed_privilege) then
        execute format('grant %I to %I', 'vidstats_share', current_user);
    end if;
end
$$;
grant usage on schema analytics to vidstats_share;

-- ---- share links -------------------------------------------------------------------------------------------

create table analytics.campaign_share_links (
    id          uuid primary key default gen_random_uuid(),
    campaign_id uuid not null references analytics.campaigns (id) on delete cascade,
    -- sha256 of the token: the token itself is shown once, to its creator, and never stored.
    token_hash  bytea not null unique check (length(token_hash) = 32),
    created_by  uuid,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz,
    revoked_at  timestamptz
);
create index campaign_share_links_campaign_id_idx on analytics.campaign_share_links (campaign_id, created_at desc, id);
comment on table analytics.campaign_share_links is
    'Read-only links to one campaign''s analytics for people without an account (the token''s sha256 only).';

-- The campaign a share request may read: its token hash names a link neither revoked nor expired. Security
-- definer: the share role cannot read the links themselves.
create function analytics.current_share_campaign_id()
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
    select l.campaign_id
      from (select nullif(current_setting('request.headers', true), '')::jsonb ->> 'x-share-token-hash' as h) r
      join analytics.campaign_share_links l
        on r.h ~ '^[0-9a-f]{64}$'
       and l.token_hash = decode(r.h, 'hex')
       and l.revoked_at is null
       and (l.expires_at is null or l.expires_at > now())
$$;

create function analytics.current_share_workspace_id()
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
    select c.workspace_id from analytics.campaigns c where c.id = analytics.current_share_campaign_id()
$$;

-- The workspace whose view of the videos a request gets: a member's named workspace, or a share link's.
create function analytics.viewing_workspace_id()
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
    select coalesce(analytics.current_workspace_id(), analytics.current_share_workspace_id())
$$;

-- ---- a workspace's own tracking ------------------------------------------------------------------------------

-- One row per video the viewing workspace tracks (or tracked): its own state and dates.
--   gone     the platform reported the video gone (the video's own state, whoever tracks it);
--   stopped  this workspace stopped tracking it (or, should it ever be, the video stopped everywhere);
--   active   otherwise.
-- fetch_health is the video's, except that a video this workspace stopped is `stopped` for it.
create view analytics.workspace_video_tracking with (security_invoker = true) as
    select wv.video_id, wv.workspace_id, s.tracking_state, wv.added_at as started_at,
           case when s.tracking_state <> 'active' then coalesce(wv.stopped_at, v.tracking_stopped_at) end
               as stopped_at,
           case when s.tracking_state = 'stopped' then 'stopped' else v.fetch_health end as fetch_health
      from analytics.workspace_videos wv
      join analytics.videos v on v.id = wv.video_id
      cross join lateral (select case when v.tracking_state = 'gone' then 'gone'
                                      when wv.stopped_at is not null or v.tracking_state = 'stopped' then 'stopped'
                                      else 'active' end as tracking_state) s
     where wv.workspace_id = (select analytics.viewing_workspace_id());
comment on view analytics.workspace_video_tracking is
    'The viewing workspace''s own tracking of its videos: state (active, stopped, gone), its start and stop.';

-- GET /videos?sort=recent: the workspace's videos newest first (added_at desc, then id), walked in this order.
create index workspace_videos_workspace_id_added_at_idx
    on analytics.workspace_videos (workspace_id, added_at desc, video_id);

-- ---- row-level security: the reader manages its workspace's links ------------------------------------------

alter table analytics.campaign_share_links enable row level security;
create policy campaign_share_links_reader_select on analytics.campaign_share_links for select to vidstats_reader
    using (exists (select 1 from analytics.campaigns c
                    where c.id = campaign_share_links.campaign_id
                      and c.workspace_id = (select analytics.editable_workspace_id())));
create policy campaign_share_links_reader_insert on analytics.campaign_share_links for insert to vidstats_reader
    with check (exists (select 1 from analytics.campaigns c
                         where c.id = campaign_share_links.campaign_id
                           and c.workspace_id = (select analytics.editable_workspace_id())));
create policy campaign_share_links_reader_update on analytics.campaign_share_links for update to vidstats_reader
    using (exists (select 1 from analytics.campaigns c
                    where c.id = campaign_share_links.campaign_id
                      and c.workspace_id = (select analytics.editable_workspace_id())))
    with check (exists (select 1 from analytics.campaigns c
                         where c.id = campaign_share_links.campaign_id
                           and c.workspace_id = (select analytics.editable_workspace_id())));

-- ---- row-level security: the share reader sees its campaign only ----------------------------------------------

create policy campaigns_share_select on analytics.campaigns for select to vidstats_share
    using (id = (select analytics.current_share_campaign_id()));
create policy campaign_videos_share_select on analytics.campaign_videos for select to vidstats_share
    using (campaign_id = (select analytics.current_share_campaign_id()));
create policy campaign_video_bounds_share_select on analytics.campaign_video_bounds for select to vidstats_share
    using (campaign_id = (select analytics.current_share_campaign_id()));
-- Video-keyed relations: a probe of campaign_videos' primary key per row (as the reader's policies do).
create policy videos_share_select on analytics.videos for select to vidstats_share
    using ((select true from analytics.campaign_videos cv
             where cv.campaign_id = (select analytics.current_share_campaign_id()) and cv.video_id = videos.id));
create policy bloggers_share_select on analytics.bloggers for select to vidstats_share
    using (exists (select 1 from analytics.videos v where v.blogger_id = bloggers.id));
create policy workspace_videos_share_select on analytics.workspace_videos for select to vidstats_share
    using (workspace_id = (select analytics.current_share_workspace_id())
           and (select true from analytics.campaign_videos cv
                 where cv.campaign_id = (select analytics.current_share_campaign_id())
                   and cv.video_id = workspace_videos.video_id));
create policy video_latest_statistics_share_select on analytics.video_latest_statistics for select to vidstats_share
    using ((select true from analytics.campaign_videos cv
             where cv.campaign_id = (select analytics.current_share_campaign_id())
               and cv.video_id = video_latest_statistics.video_id));
create policy video_growth_share_select on analytics.video_growth for select to vidstats_share
    using ((select true from analytics.campaign_videos cv
             where cv.campaign_id = (select analytics.current_share_campaign_id())
               and cv.video_id = video_growth.video_id));
create policy mv_video_daily_increments_share_select on analytics.mv_video_daily_increments
    for select to vidstats_share
    using ((select true from analytics.campaign_videos cv
             where cv.campaign_id = (select analytics.current_share_campaign_id())
               and cv.video_id = mv_video_daily_increments.video_id));
create policy mv_video_weekly_increments_share_select on analytics.mv_video_weekly_increments
    for select to vidstats_share
    using ((select true from analytics.campaign_videos cv
             where cv.campaign_id = (select analytics.current_share_campaign_id())
               and cv.video_id = mv_video_weekly_increments.video_id));

-- ---- privileges ------------------------------------------------------------------------------------------------

revoke all on function analytics.current_share_campaign_id() from public;
revoke all on function analytics.current_share_workspace_id() from public;
revoke all on function analytics.viewing_workspace_id() from public;
grant execute on function analytics.viewing_workspace_id() to vidstats_reader, vidstats_share;
grant execute on function analytics.current_share_campaign_id(), analytics.current_share_workspace_id()
    to vidstats_share;

grant select on analytics.workspace_video_tracking to vidstats_reader, vidstats_share;
grant select, insert on analytics.campaign_share_links to vidstats_reader;
grant update (revoked_at) on analytics.campaign_share_links to vidstats_reader;

-- The share reader reads what a campaign's pages read, through the same figure definitions; it writes nothing.
grant select on analytics.campaigns, analytics.campaign_videos, analytics.campaign_video_bounds, analytics.videos,
    analytics.bloggers, analytics.workspace_videos, analytics.video_latest_statistics, analytics.video_growth,
    analytics.mv_video_daily_increments, analytics.mv_video_weekly_increments, analytics.read_model_state,
    analytics.campaign_totals
    to vidstats_share;
grant execute on function analytics.campaign_video_days(uuid, date, date),
    analytics.campaign_video_growth(uuid, date, date), analytics.campaign_series(uuid, date, date, text),
    analytics.video_period_growth(uuid[], date, date), analytics.series_periods(date, date, text),
    analytics.refresh_status()
    to vidstats_share;
