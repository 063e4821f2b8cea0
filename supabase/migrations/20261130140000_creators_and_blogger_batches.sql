-- Creators attached from what the platform says, and the outcome of each blogger batch.
--
-- A creator is one `bloggers` row per (platform, platform_user_id), the platform's stable id (TikTok user id,
-- Instagram pk, YouTube channel id), whichever path met it first: a video tracked by URL (its fetched answer
-- names the author) or a blogger batch. A batch whose listing did not name the id (a TikTok listing may carry
-- only the handle) keys the row by the handle for the time being (`keyed_by_handle`); the first answer that
-- names both the id and that handle re-keys the row, or folds it into the id's row when both exist.

alter table analytics.bloggers
    add column display_name text,
    add column keyed_by_handle boolean not null default false;
comment on column analytics.bloggers.username is
    'The handle (TikTok unique_id, Instagram username, YouTube @handle) as last seen: it follows renames.';
comment on column analytics.bloggers.display_name is
    'The creator''s display name (TikTok nickname, Instagram full_name, YouTube channel title) as last seen.';
comment on column analytics.bloggers.keyed_by_handle is
    'platform_user_id holds the handle, because no answer has named the platform''s own id yet.';

-- Rows written before this migration by a blogger batch that fell back on the handle: every platform id is
-- numeric (TikTok, Instagram) or a UC... channel id (YouTube).
update analytics.bloggers
   set keyed_by_handle = true
 where (platform in ('tiktok', 'instagram') and platform_user_id !~ '^[0-9]+$')
    or (platform = 'youtube' and platform_user_id !~ '^UC[0-9A-Za-z_-]{22}$');

-- Finding the handle-keyed row an answer names, and a blogger batch's creator by handle.
create index bloggers_platform_username_idx on analytics.bloggers (platform, lower(username));

create table analytics.blogger_batches (
    -- The request id POST /bloggers returns (the fetch_creator message's request_id).
    id                      uuid primary key,
    platform                text not null check (platform in ('tiktok', 'instagram', 'youtube')),
    creator                 text not null check (length(creator) between 1 and 200),
    video_limit             integer not null check (video_limit between 1 and 500),
    -- The campaign as requested: no foreign key, so the outcome of a batch whose campaign was deleted is kept.
    campaign_id             uuid,
    status                  text not null default 'pending' check (status in ('pending', 'done', 'failed')),
    requested_at            timestamptz not null default now(),
    finished_at             timestamptz,
    -- Deliveries that failed in a way a retry may fix (the message comes back); last_error says why.
    failed_attempts         integer not null default 0 check (failed_attempts >= 0),
    blogger_id              uuid references analytics.bloggers (id) on delete set null,
    videos_found            integer check (videos_found >= 0),
    videos_new              integer check (videos_new >= 0),
    snapshots_written       integer check (snapshots_written >= 0),
    videos_without_snapshot integer check (videos_without_snapshot >= 0),
    failure_reason          text check (failure_reason in ('creator_not_found', 'provider_configuration',
                                                           'campaign_not_found', 'provider_error')),
    last_error              text,
    updated_at              timestamptz not null default now(),
    constraint blogger_batches_outcome_check check (
        case status
            when 'pending' then finished_at is null and failure_reason is null
            when 'done' then finished_at is not null and failure_reason is null and videos_found is not null
            else finished_at is not null and failure_reason is not null
        end)
);
comment on table analytics.blogger_batches is
    'Blogger batches (POST /bloggers): pending until the queue processor writes the outcome, in the same '
    'transaction as the batch''s videos and snapshots when it is done.';
-- A creator's handle-keyed row folded into its row moves the row's batches.
create index blogger_batches_blogger_id_idx on analytics.blogger_batches (blogger_id);

-- The dashboard API records the request (pending) and reads outcomes; the queue processor writes them. The
-- ingest role deletes a blogger row only when folding a handle-keyed row into its creator's row.
grant select, insert on analytics.blogger_batches to vidstats_reader;
grant select, insert, update on analytics.blogger_batches to vidstats_ingest;
grant delete on analytics.bloggers to vidstats_ingest;
