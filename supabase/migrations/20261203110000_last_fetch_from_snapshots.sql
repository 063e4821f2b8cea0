-- A video's last successful fetch is its latest snapshot, so a successful fetch no longer updates its videos row.
--
-- Every successful fetch writes exactly one snapshot, whose created_at is the fetching transaction's now(): the
-- time videos.last_fetched_at used to be set to in the same transaction. Updating 500 videos rows per SQS batch
-- only to store that time again cost as much as inserting the batch's snapshots. The queue processor now updates
-- a video after a success only when something else changes (a failure count or error to clear, a caption or
-- publish time to fill in; vidstats.ingestion.videos_repository.record_fetch_outcomes), and setting
-- last_fetched_at then as before. So the last fetch is the later of videos.last_fetched_at and the video's
-- latest snapshot (each monthly partition's video_statistics_video_time_idx answers that with one probe).

-- The definition, for the owner's own use (the tests, the two functions below use it through the owner).
create function analytics.last_fetch_at(p_video_id uuid)
returns timestamptz
language sql
stable
set search_path = ''
as $$
    select greatest(
        (select v.last_fetched_at from analytics.videos v where v.id = p_video_id),
        (select max(s.created_at) from analytics.video_statistics s where s.video_id = p_video_id))
$$;
comment on function analytics.last_fetch_at(uuid) is
    'A video''s last successful fetch: the later of videos.last_fetched_at and its latest snapshot.';
revoke execute on function analytics.last_fetch_at(uuid) from public;

-- The dashboard's read of it (GET /videos/{id}, stopping a video's tracking). The reader has no grant on
-- video_statistics: security definer, answering only when the caller's workspace tracks (or tracked) the video, the
-- check of the videos policy, as analytics.video_snapshots makes it.
create function analytics.video_last_fetched_at(p_video_id uuid)
returns timestamptz
language sql
stable
security definer
set search_path = ''
as $$
    select analytics.last_fetch_at(p_video_id)
     where exists (select 1 from analytics.workspace_videos wv
                    where wv.video_id = p_video_id and wv.workspace_id = (select analytics.current_workspace_id()))
$$;
comment on function analytics.video_last_fetched_at(uuid) is
    'A video''s last successful fetch (analytics.last_fetch_at); null unless the caller''s workspace tracks it.';
revoke execute on function analytics.video_last_fetched_at(uuid) from public;
grant execute on function analytics.video_last_fetched_at(uuid) to vidstats_reader;
