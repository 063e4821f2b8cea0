-- A workspace's own tracking of a video (workspace_video_tracking: its start, its stop) read from the primary key
-- alone. Every page that filters by a state or sorts by recency, and every list row, reads a workspace's entry for
-- a video by (workspace_id, video_id) for its added_at and stopped_at: a probe of the key, then of the table. With
-- both in the key's leaves the probe is index-only (the table changes rarely: tracking starts and stops, so its
-- pages stay all-visible). At 5M snapshots, health=failing ranks 250 videos: the function 2.6 -> 1.65 ms;
-- health=failing&sort=recent p50 21 -> 13 ms through the API. A stop now updates an indexed column (no HOT
-- update): stops are rare.
alter table analytics.workspace_videos
    drop constraint workspace_videos_pkey,
    add constraint workspace_videos_pkey primary key (workspace_id, video_id) include (added_at, stopped_at);
