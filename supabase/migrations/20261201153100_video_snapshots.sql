-- A video's raw snapshots for the dashboard's Video screen (GET /videos/{id}/snapshots), newest first, a page at a
-- time. The reader never reads analytics.video_statistics itself (it has no grant on it: snapshots are the
-- writers' table); this function, security definer, reads one video's rows, and only when the caller's workspace
-- tracks (or tracked) the video: the check of the videos policy (videos_reader_select), through the same helper.
-- Keyset paging on (created_at, id) descending walks video_statistics_video_time_idx backwards.
create function analytics.video_snapshots(p_video_id uuid, p_before_at timestamptz, p_before_id bigint,
                                          p_limit integer)
returns table (
    id bigint, created_at timestamptz, views bigint, likes bigint, comments bigint, reposts bigint, saves bigint,
    views_kind text
)
language sql
stable
security definer
set search_path = ''
as $$
    select s.id, s.created_at, s.views, s.likes, s.comments, s.reposts, s.saves, s.views_kind
      from analytics.video_statistics s
     where s.video_id = p_video_id
       and exists (select 1 from analytics.workspace_videos wv
                    where wv.video_id = p_video_id and wv.workspace_id = (select analytics.current_workspace_id()))
       and (p_before_at is null or (s.created_at, s.id) < (p_before_at, p_before_id))
     order by s.created_at desc, s.id desc
     limit least(greatest(p_limit, 0), 1000)
$$;
comment on function analytics.video_snapshots(uuid, timestamptz, bigint, integer) is
    'A video''s snapshots newest first, after the (created_at, id) key given; none unless the caller''s '
    'workspace tracks the video.';

revoke execute on function analytics.video_snapshots(uuid, timestamptz, bigint, integer) from public;
grant execute on function analytics.video_snapshots(uuid, timestamptz, bigint, integer) to vidstats_reader;
