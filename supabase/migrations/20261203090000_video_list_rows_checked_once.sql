-- GET /videos' rows with the caller's right to each video checked once per row instead of once per relation.
--
-- Under the reader's own rights, video_list_rows() joins five relations whose row-level security each probes
-- workspace_videos again for the same video (videos twice, through the tracking view and directly, the latest
-- row, the growth row, and the creator through its videos): five index probes per row, about half of the
-- statement's buffers and a millisecond or two of every dashboard page. The rows it may return are exactly the
-- videos the caller's policies show: the reader's, those its request's workspace tracks
-- (videos_reader_select: workspace_videos of current_workspace_id()); a share link's reader's, those of the
-- link's campaign (videos_share_select: campaign_videos of current_share_campaign_id()), in the campaign's
-- workspace. This version, security definer:
--   1. chooses the workspace by the role the transaction runs as (a definer keeps it): a reader's request
--      workspace, a share link's campaign's workspace; no other role gets a row;
--   2. keeps only the given videos that workspace tracks (the join with its tracking, one probe per row) and,
--      for a share link, that are in its campaign (one probe of campaign_videos' key per row);
--   3. reads those videos' rows as the owner, with the same joins as before: same columns, same numbers.
-- It is granted to the same two roles as before; every other relation keeps its row-level security.
create or replace function analytics.video_list_rows(p_video_ids uuid[], p_first date, p_last date)
returns table (
    ord bigint, id uuid, platform text, external_video_id text, url text, caption text,
    published_at timestamptz, blogger_id uuid, username text, display_name text, tracking_state text,
    started_at timestamptz, views bigint, likes bigint, comments bigint, reposts bigint, saves bigint,
    stats_at timestamptz, views_kind text, views_growth bigint, likes_growth bigint, comments_growth bigint,
    reposts_growth bigint, saves_growth bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
    days integer := p_last - p_first + 1;
    caller text := current_setting('role', true);  -- the SET ROLE of the transaction (a definer keeps it)
    viewer uuid := case caller when 'vidstats_reader' then analytics.current_workspace_id()
                               when 'vidstats_share' then analytics.current_share_workspace_id() end;
    shared_campaign uuid := case caller when 'vidstats_share' then analytics.current_share_campaign_id() end;
begin
    if viewer is null then
        return;
    end if;
    if days in (1, 7, 30) and exists (select 1 from analytics.read_model_state st
                                        where st.name = 'video_statistics' and st.growth_as_of = p_last) then
        return query
            select p.ord, v.id, v.platform, v.external_video_id, v.url, v.caption, v.published_at, v.blogger_id,
                   b.username, b.display_name, t.tracking_state, t.started_at,
                   l.views, l.likes, l.comments, l.reposts, l.saves, l.created_at, l.views_kind,
                   g.views, g.likes, g.comments, g.reposts, g.saves
              from unnest(p_video_ids) with ordinality as p(id, ord)
              join analytics.workspace_video_tracking t on t.video_id = p.id and t.workspace_id = viewer
              join analytics.videos v on v.id = p.id
              left join analytics.bloggers b on b.id = v.blogger_id
              left join analytics.video_latest_statistics l on l.video_id = v.id
              left join analytics.video_growth g on g.video_id = v.id and g.period_days = days
             where caller = 'vidstats_reader'
                or exists (select 1 from analytics.campaign_videos cv
                            where cv.campaign_id = shared_campaign and cv.video_id = p.id);
    else
        return query
            select p.ord, v.id, v.platform, v.external_video_id, v.url, v.caption, v.published_at, v.blogger_id,
                   b.username, b.display_name, t.tracking_state, t.started_at,
                   l.views, l.likes, l.comments, l.reposts, l.saves, l.created_at, l.views_kind,
                   g.views, g.likes, g.comments, g.reposts, g.saves
              from unnest(p_video_ids) with ordinality as p(id, ord)
              join analytics.workspace_video_tracking t on t.video_id = p.id and t.workspace_id = viewer
              join analytics.videos v on v.id = p.id
              left join analytics.bloggers b on b.id = v.blogger_id
              left join analytics.video_latest_statistics l on l.video_id = v.id
              left join analytics.video_period_growth(p_video_ids, p_first, p_last) g on g.video_id = v.id
             where caller = 'vidstats_reader'
                or exists (select 1 from analytics.campaign_videos cv
                            where cv.campaign_id = shared_campaign and cv.video_id = p.id);
    end if;
end
$$;
comment on function analytics.video_list_rows(uuid[], date, date) is
    'The dashboard list''s rows of the given videos the caller may see (its workspace''s; a share link''s '
    'campaign''s): creator, the workspace''s tracking, totals, period growth.';

revoke all on function analytics.video_list_rows(uuid[], date, date) from public;
grant execute on function analytics.video_list_rows(uuid[], date, date) to vidstats_reader, vidstats_share;
