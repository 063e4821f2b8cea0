-- Fetch health per video: what the last fetches said, so a user sees which videos are stuck and why.
--
-- The queue processor keeps these up to date on every fetch (vidstats.ingestion.videos_repository):
--   last_fetched_at           the last successful fetch (existing column);
--   last_error, last_error_at the last failure's message and time (existing columns);
--   last_error_class          what that failure meant: gone, transient, quota, configuration, bad_input,
--                             invalid_response (cleared with last_error by a success);
--   consecutive_failures      failed fetches since the last success (every attempt, SQS redeliveries included);
--   failure_days              distinct UTC days among them;
--   gone_answer_days          distinct UTC days, since the last success, on which the platform answered
--                             "gone" (deleted, private, not found); last_gone_answer_at the latest such answer.
--                             The video is marked gone once this reaches GONE_AFTER_DAYS (default 2), so one
--                             provider hiccup never ends tracking.
--
-- fetch_health is the one definition of the state the API, the export and /status show:
--   gone      the platform answered gone on enough separate days (tracking_state = 'gone');
--   stopped   tracking stopped by a user or after its campaigns ended;
--   failing   still tracked, but its fetches failed on 2 or more UTC days since the last success
--             (e.g. two nightly fetches in a row, whatever the reason: last_error_class says which);
--   tracking  tracked and fetched (or failing on one day only so far: a hiccup).

alter table analytics.videos
    add column last_error_class text
        check (last_error_class in ('gone', 'transient', 'quota', 'configuration', 'bad_input', 'invalid_response')),
    add column consecutive_failures integer not null default 0 check (consecutive_failures >= 0),
    add column failure_days integer not null default 0 check (failure_days >= 0),
    add column gone_answer_days integer not null default 0 check (gone_answer_days >= 0),
    add column last_gone_answer_at timestamptz;

alter table analytics.videos
    add column fetch_health text not null generated always as (
        case
            when tracking_state = 'gone' then 'gone'
            when tracking_state = 'stopped' then 'stopped'
            when failure_days >= 2 then 'failing'
            else 'tracking'
        end) stored;

comment on column analytics.videos.fetch_health is
    'tracking | failing (fetches failed on 2+ UTC days since the last success) | gone | stopped';
comment on column analytics.videos.consecutive_failures is 'Failed fetches since the last successful one.';
comment on column analytics.videos.failure_days is 'Distinct UTC days with a failed fetch since the last success.';
comment on column analytics.videos.gone_answer_days is
    'Distinct UTC days, since the last success, on which the platform answered that the video is gone.';

-- The rare states (failing, gone, stopped) are found through this index: the health filter of GET /videos and
-- the failing count of GET /status read only those rows. "tracking" rows are not in it, so the usual fetch
-- update (the state unchanged) stays a HOT update.
create index videos_fetch_health_idx on analytics.videos (fetch_health, id) where fetch_health <> 'tracking';
