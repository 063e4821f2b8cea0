-- videos_in_state() (migration 20261204090000) also returns when the workspace started tracking each video, so
-- a page by recency in a rare state (health=failing&sort=recent) is read in one statement with the videos in it,
-- as a page by a total is, instead of reading them, then their entries again under row-level security (two
-- probes per video more: p95 33 ms at 5M snapshots, the slowest page of the list). Same rows, same access rule.
drop function analytics.videos_in_state(text, text, integer);

create function analytics.videos_in_state(p_health text, p_tracking_state text, p_max integer)
returns table (video_id uuid, views bigint, likes bigint, comments bigint, reposts bigint, saves bigint,
               started_at timestamptz)
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
        select t.video_id, l.views, l.likes, l.comments, l.reposts, l.saves, t.started_at
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
    'stopped or gone) as that workspace sees it, with their latest totals and the workspace''s start, at most '
    'p_max + 1 of them (a share link: its campaign''s only).';

revoke all on function analytics.videos_in_state(text, text, integer) from public;
grant execute on function analytics.videos_in_state(text, text, integer) to vidstats_reader, vidstats_share;
