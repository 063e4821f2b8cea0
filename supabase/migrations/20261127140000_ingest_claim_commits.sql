-- Cheaper queue-processor writes.
--
-- 1. Completing a batch's work items is one row, not one update per video. Every claim carries its claimant's
--    token (analytics.ingest_idempotency.claimed_by); the transaction that writes the snapshots inserts that
--    token here, and deletes the claims of the items it did not finish. A claim whose token is committed is
--    done. Before, "done" was an UPDATE of every claimed row (a new tuple and index entries per video).
-- 2. Room on every page of analytics.videos, so the per-fetch update of last_fetched_at / last_error (columns
--    in no index) is a HOT update: no new index entries. It applies to pages written from now on.

create table analytics.ingest_claim_commits (
    claimed_by   text primary key check (length(claimed_by) between 1 and 100),
    committed_at timestamptz not null default now()
);
comment on table analytics.ingest_claim_commits is
    'Claimants (ingest_idempotency.claimed_by) whose work committed: their remaining claims are completed. '
    'Rows older than the idempotency window are purged.';
create index ingest_claim_commits_committed_at_idx on analytics.ingest_claim_commits (committed_at);

grant select, insert, delete on analytics.ingest_claim_commits to vidstats_ingest;

alter table analytics.videos set (fillfactor = 80);
