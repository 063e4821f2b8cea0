-- A new video gets its video_latest_statistics row with one insert per INSERT statement over the inserted rows
-- (a transition table) instead of one insert per row, like its video_growth rows: inserting many videos at
-- once (a blogger batch, an import) stays a set operation.
create or replace function analytics.add_video_latest_statistics_row()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into analytics.video_latest_statistics (video_id, external_video_id)
    select n.id, n.external_video_id from new_videos n;
    return null;
end
$$;
alter function analytics.add_video_latest_statistics_row() rename to add_video_latest_statistics_rows;

drop trigger videos_add_latest_statistics_row on analytics.videos;
create trigger videos_add_latest_statistics_rows
    after insert on analytics.videos
    referencing new table as new_videos
    for each statement execute function analytics.add_video_latest_statistics_rows();
