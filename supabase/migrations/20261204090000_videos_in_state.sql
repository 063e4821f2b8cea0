-- GET /videos filtered by a rare state (fetch health failing, gone or stopped; tracking state stopped or gone):
-- the caller's workspace's videos in that state, found from the few rows in that state, the caller's right to
-- each checked once.
--
-- The list applies these filters to the videos it walks in the sort's order, probing each one's tracking (and,
-- under the reader's rights, the row-level security of videos and of the latest row: three probes of
-- workspace_videos per video). When few videos are in the state that walk is long: health=failing (250 videos
-- of 50,000 at 5M snapshots) had the slowest p95 of the list, 16 ms, and a state no video is in, such as
-- tracking_state=stopped in a workspace that stopped nothing, walked all 50,000: over a second. This function
-- finds the candidates instead from videos_fetch_health_idx (the videos' own rare states) and, for "stopped",
-- from the workspace's own stopped entries (workspace_videos_stopped_idx), keeps those the workspace sees in
-- that state (workspace_video_tracking: its own stop), and returns at most p_max + 1 of them with their latest
-- totals (a page by a total sorts them): more means the state is common, and the list walks its order as before. Security definer like video_list_rows(): the
-- workspace is the one the transaction's role reads (a reader's request workspace; a share link's campaign's
-- workspace, only that campaign's videos); any other role gets nothing. The same videos the caller's policies
-- would show in that state, and no other.
create index workspace_videos_stopped_idx on analytics.workspace_videos (workspace_id, video_id)
    where stopped_at is not null;

-- Who a security definer function reads for, from the role the transaction runs as (a definer keeps the SET ROLE):
-- a reader, its request's workspace; a share link's reader, the link's campaign and that campaign's workspace;
-- any other role, nothing (NULLs). The rule video_list_rows() (migration 20261203090000) spells out in its own
-- body; the functions after it call this.
create function analytics.caller_access(out caller text, out workspace_id uuid, out campaign_id uuid)
language sql
stable
set search_path = ''
as $$
    select r,
           case r when 'vidstats_reader' then analytics.current_workspace_id()
                  when 'vidstats_share' then analytics.current_share_workspace_id() end,
           case r when 'vidstats_share' then analytics.current_share_campaign_id() end
      from (select current_setting('role', true) as r) s
$$;
comment on function analytics.caller_access() is
    'For security definer functions: the transaction''s role, and the workspace (and a share link''s campaign) '
    'it reads.';
revoke all on function analytics.caller_access() from public;

create function analytics.videos_in_state(p_health text, p_tracking_state text, p_max integer)
returns table (video_id uuid, views bigint, likes bigint, comments bigint, reposts bigint, saves bigint)
language plpgsql
stable
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
    access record := analytics.caller_access();
    caller text := access.caller;
    viewer uuid := access.workspace_id;
    shared_campaign uuid := access.campaign_id;
    -- The state of a video's own row (videos.fetch_health) a video in the asked state has: stopped (and, for
    -- "stopped", also the workspace's own stop), gone, failing. Common states (tracking, active) are not served.
    own_state text := case when 'stopped' in (p_health, p_tracking_state) then 'stopped'
                           when 'gone' in (p_health, p_tracking_state) then 'gone'
                           when p_health = 'failing' then 'failing' end;
begin
    if viewer is null or own_state is null then
        return;
    end if;
    return query
        select t.video_id, l.views, l.likes, l.comments, l.reposts, l.saves
          from analytics.workspace_video_tracking t
          left join analytics.video_latest_statistics l on l.video_id = t.video_id
         where t.workspace_id = viewer
           and t.video_id in (select v.id from analytics.videos v
                               where v.fetch_health = own_state and v.fetch_health <> 'tracking'
                              union all
                              select wv.video_id from analytics.workspace_videos wv
                               where own_state = 'stopped' and wv.workspace_id = viewer
                                 and wv.stopped_at is not null)
           and (p_health is null or t.fetch_health = p_health)
           and (p_tracking_state is null or t.tracking_state = p_tracking_state)
           and (caller = 'vidstats_reader'
                or exists (select 1 from analytics.campaign_videos cv
                            where cv.campaign_id = shared_campaign and cv.video_id = t.video_id))
         limit p_max + 1;
end
$$;
comment on function analytics.videos_in_state(text, text, integer) is
    'The caller''s workspace''s videos in a rare state (fetch health failing, gone or stopped; tracking state '
    'stopped or gone) as that workspace sees it, with their latest totals, at most p_max + 1 of them (a share '
    'link: its campaign''s only).';

revoke all on function analytics.videos_in_state(text, text, integer) from public;
grant execute on function analytics.videos_in_state(text, text, integer) to vidstats_reader, vidstats_share;
