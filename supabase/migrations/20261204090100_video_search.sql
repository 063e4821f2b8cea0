-- GET /videos?q=: the videos whose caption, or whose creator's username or display name, contains the text.
--
-- The list applied the search to the videos it walks in the sort's order: a text few videos contain walked all
-- of them (0.5-1 s at 50,000 videos, 5M snapshots; a text none contains the same). Trigram indexes find the
-- few that match instead (ILIKE '%text%' of three characters or more), so the list starts from them. Under the
-- reader's own rights the indexes cannot serve: ILIKE is not leakproof, so row-level security's check runs
-- first on every video (a scan probing workspace_videos 50,000 times). videos_matching() searches as the owner
-- and keeps the videos the caller may see, like videos_in_state(): a reader's request workspace's (its
-- workspace_videos, as videos_reader_select), a share link's campaign's, in its workspace; any other role gets
-- nothing. It returns at most p_max + 1 ids (a video matching both ways twice): more means the text is
-- common, and the list walks its order.
-- pg_trgm lives in the extensions schema, as on Supabase (its linter flags extensions in public).
create schema if not exists extensions;
create extension if not exists pg_trgm with schema extensions;

-- fastupdate off: new entries go straight into the index instead of a pending list every search would scan
-- whole (up to gin_pending_list_limit, 4 MB); captions and creators' names are written rarely.
create index videos_caption_trgm_idx on analytics.videos using gin (caption extensions.gin_trgm_ops)
    with (fastupdate = off);
create index bloggers_username_trgm_idx on analytics.bloggers using gin (username extensions.gin_trgm_ops)
    with (fastupdate = off);
create index bloggers_display_name_trgm_idx on analytics.bloggers using gin (display_name extensions.gin_trgm_ops)
    with (fastupdate = off);

create function analytics.videos_matching(p_pattern text, p_max integer)
returns setof uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    access record := analytics.caller_access();
    caller text := access.caller;
    viewer uuid := access.workspace_id;
    shared_campaign uuid := access.campaign_id;
begin
    if viewer is null or p_pattern is null then
        return;
    end if;
    return query
        select m.id
          from (select v.id from analytics.videos v where v.caption ilike p_pattern
                union all  -- streamed, so a common text stops at the limit (a video may come twice)
                select v.id from analytics.bloggers b join analytics.videos v on v.blogger_id = b.id
                 where b.username ilike p_pattern or b.display_name ilike p_pattern) m
         where exists (select 1 from analytics.workspace_videos wv
                        where wv.workspace_id = viewer and wv.video_id = m.id)
           and (caller = 'vidstats_reader'
                or exists (select 1 from analytics.campaign_videos cv
                            where cv.campaign_id = shared_campaign and cv.video_id = m.id))
         limit p_max + 1;
end
$$;
comment on function analytics.videos_matching(text, integer) is
    'The videos the caller may see (its workspace''s; a share link''s campaign''s) whose caption or creator''s '
    'username or display name matches the ILIKE pattern, at most p_max + 1 rows (a video may come twice).';

revoke all on function analytics.videos_matching(text, integer) from public;
grant execute on function analytics.videos_matching(text, integer) to vidstats_reader, vidstats_share;
