-- Narrower queue-processor claims: a claim per work item is written before every provider call (500 per SQS batch
-- of the nightly run), and its row cost as much as the snapshot it guards.
--
-- analytics.ingest_idempotency kept the item's key as text ("<request id>:<video id>", 73 characters, in the row
-- and again in its primary key), a status, the claimant's token as text, and two timestamps besides the lock and
-- the expiry, with an index on the expiry. Here a claim is four fixed-width columns:
--   claim_id     md5 of the key, as a uuid (16 bytes; the processor sends the keys, the server hashes them);
--   claimed_by   md5 of the claimant's token, as a uuid;
--   locked_until an in-progress claim is taken over after this instant (its holder died or timed out);
--   expires_at   the claim is forgotten after this instant (the idempotency window).
-- A claim is done when its claimant committed (analytics.ingest_commits, written in the transaction that wrote
-- the item's snapshot; the "completed" status was no longer written). There is no index on expires_at: the nightly
-- purge reads the table once a day instead of every batch maintaining the index.
--
-- Claims in flight carry over (hashed the same way); a key completed under the old status counts as committed.

create table analytics.ingest_claims (
    claim_id     uuid primary key,
    claimed_by   uuid not null,
    locked_until timestamptz not null,
    expires_at   timestamptz not null
);
comment on table analytics.ingest_claims is
    'Queue processor idempotency: one claim per work item (claim_id = md5(key)::uuid), held by a claimant '
    '(claimed_by = md5(token)::uuid); done once its claimant committed (ingest_commits). Rows past expires_at '
    'are ignored and purged.';

create table analytics.ingest_commits (
    claimed_by   uuid primary key,
    committed_at timestamptz not null default now()
);
comment on table analytics.ingest_commits is
    'Claimants (md5 of their token) whose work committed: their claims are done. Rows older than the idempotency '
    'window are purged.';
create index ingest_commits_committed_at_idx on analytics.ingest_commits (committed_at);

insert into analytics.ingest_commits (claimed_by, committed_at)
select md5(claimed_by)::uuid, committed_at from analytics.ingest_claim_commits
on conflict do nothing;
-- The claimant of keys completed under the old status: committed now, purged after the window with them.
insert into analytics.ingest_commits (claimed_by)
select md5('completed before 20261203110100')::uuid
 where exists (select 1 from analytics.ingest_idempotency where status = 'completed')
on conflict do nothing;
insert into analytics.ingest_claims (claim_id, claimed_by, locked_until, expires_at)
select md5(idempotency_key)::uuid,
       case when status = 'completed' then md5('completed before 20261203110100')::uuid
            else md5(coalesce(claimed_by, ''))::uuid end,
       coalesce(locked_until, now()), expires_at
  from analytics.ingest_idempotency
on conflict do nothing;

drop table analytics.ingest_idempotency;
drop table analytics.ingest_claim_commits;

grant select, insert, update, delete on analytics.ingest_claims to vidstats_ingest;
grant select, insert, delete on analytics.ingest_commits to vidstats_ingest;
