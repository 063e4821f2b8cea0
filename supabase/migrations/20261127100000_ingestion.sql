-- Ingestion bookkeeping: idempotency of fetch messages and the debounced "significant write" signal.
--
-- Idempotency lives in Postgres, next to the snapshots it guards, so that "this work item is done" commits in
-- the same transaction as the snapshot rows it produced: a redelivered SQS message can then never add a
-- second snapshot, even when the function dies between the commit and its reply to SQS.

create table analytics.ingest_idempotency (
    -- "<request id>:<video id>" for a video fetch, "<request id>" for a creator listing.
    idempotency_key text primary key check (length(idempotency_key) between 1 and 200),
    status          text not null check (status in ('in_progress', 'completed')),
    -- An in-progress claim is taken over after this instant (its holder died or timed out).
    locked_until    timestamptz,
    -- Who holds the claim (one invocation), so that invocation may safely re-run its own claim.
    claimed_by      text,
    -- A completed key is forgotten after this instant (the idempotency window).
    expires_at      timestamptz not null,
    updated_at      timestamptz not null default now()
);
comment on table analytics.ingest_idempotency is
    'Queue processor idempotency: work items claimed (in_progress) or done (completed, committed with the '
    'snapshots they wrote). Rows past expires_at are ignored and purged.';
create index ingest_idempotency_expires_at_idx on analytics.ingest_idempotency (expires_at);

-- One row per signal; "send at most once per debounce interval, after enough rows".
create table analytics.ingest_signals (
    name           text primary key check (name in ('mv_refresh')),
    pending_rows   bigint not null default 0 check (pending_rows >= 0),
    last_signal_at timestamptz not null default '-infinity'
);
comment on table analytics.ingest_signals is
    'Rows written since the last writer signal to mv_refresh, and when it was last sent (debounce).';
insert into analytics.ingest_signals (name) values ('mv_refresh');

grant select, insert, update, delete on analytics.ingest_idempotency to vidstats_ingest;
grant select, update on analytics.ingest_signals to vidstats_ingest;
