-- What a snapshot's `views` counts. Instagram answers carry several play counters ("plays", which include
-- replays, and "views"), which differ by a factor of several; an answer may give one and the next answer
-- the other. The kind is stored with each snapshot, and an increment only ever subtracts a value from an
-- earlier value of the same kind.
alter table analytics.video_statistics
    add column views_kind text not null default 'views' check (views_kind in ('views', 'plays'));
comment on column analytics.video_statistics.views_kind is
    'What views counts: views (TikTok plays, YouTube and Instagram views) or plays (Instagram play counts).';
