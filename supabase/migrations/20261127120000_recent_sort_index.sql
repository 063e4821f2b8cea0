-- GET /videos?sort=recent lists the newest tracked videos first (ties by id): read them in index order
-- instead of sorting every video.
create index videos_tracking_started_at_idx on analytics.videos (tracking_started_at desc, id);
