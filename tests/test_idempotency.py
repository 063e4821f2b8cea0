"""The Postgres idempotency store on its own: claims, completion by committed token, release, purge."""

from __future__ import annotations

from vidstats.db import Database, Role
from vidstats.ingestion.idempotency import IdempotencyStore

from tests.conftest import IsolatedDatabase


def test_completing_a_token_makes_its_claims_done_except_the_unfinished_ones(db: Database) -> None:
    store = IdempotencyStore(db, window_s=3600)
    assert store.claim(["a", "b", "c"], lock_s=60, token="t1").claimed == {"a", "b", "c"}

    with db.transaction(Role.INGEST) as conn:
        store.complete(conn, token="t1", unfinished=["c"])

    again = store.claim(["a", "b", "c"], lock_s=60, token="t2")
    assert again.done == {"a", "b"}
    assert again.claimed == {"c"}  # dropped in the completing transaction: free for the next delivery


def test_a_completion_rolled_back_with_its_write_leaves_the_claims_in_progress(db: Database) -> None:
    store = IdempotencyStore(db, window_s=3600)
    store.claim(["a"], lock_s=60, token="t1")

    try:
        with db.transaction(Role.INGEST) as conn:
            store.complete(conn, token="t1")
            raise RuntimeError("the snapshot write failed after the completion")
    except RuntimeError:
        pass

    assert store.claim(["a"], lock_s=60, token="t2").busy == {"a"}  # still held by t1's live claim
    assert store.claim(["a"], lock_s=60, token="t1").claimed == {"a"}  # t1 may re-run its own claim


def test_purge_forgets_expired_keys_and_commits_older_than_the_window(
    db: Database, database: IsolatedDatabase
) -> None:
    store = IdempotencyStore(db, window_s=3600)
    store.claim(["old-1", "old-2"], lock_s=60, token="t-old")
    with db.transaction(Role.INGEST) as conn:
        store.complete(conn, token="t-old")
    store.claim(["fresh"], lock_s=60, token="t-new")
    with db.transaction(Role.INGEST) as conn:
        store.complete(conn, token="t-new")
    with database.connect_owner() as conn:  # two hours pass for t-old's claims and its commit
        conn.execute("update analytics.ingest_idempotency set expires_at = expires_at - interval '2 hours'"
                     " where claimed_by = 't-old'")
        conn.execute("update analytics.ingest_claim_commits set committed_at = committed_at - interval '2 hours'"
                     " where claimed_by = 't-old'")

    assert store.purge_expired() == 2

    with database.connect_owner() as conn:
        keys = {r[0] for r in conn.execute("select idempotency_key from analytics.ingest_idempotency")}
        commits = {r[0] for r in conn.execute("select claimed_by from analytics.ingest_claim_commits")}
    assert keys == {"fresh"}
    assert commits == {"t-new"}
    assert store.claim(["old-1", "fresh"], lock_s=60, token="t3").done == {"fresh"}


def test_releasing_after_a_commit_whose_reply_was_lost_keeps_the_keys_done(db: Database) -> None:
    store = IdempotencyStore(db, window_s=3600)
    store.claim(["a", "b"], lock_s=60, token="t1")
    with db.transaction(Role.INGEST) as conn:
        store.complete(conn, token="t1")

    store.release(["a", "b"], token="t1")  # what the processor does when it cannot tell the commit happened

    assert store.claim(["a", "b"], lock_s=60, token="t2").done == {"a", "b"}


def test_one_claim_sorts_free_done_held_expired_and_own_keys(db: Database, database: IsolatedDatabase) -> None:
    store = IdempotencyStore(db, window_s=3600)
    store.claim(["done", "expired"], lock_s=60, token="t-done")
    with db.transaction(Role.INGEST) as conn:
        store.complete(conn, token="t-done")
    store.claim(["held"], lock_s=60, token="t-other")
    store.claim(["mine"], lock_s=60, token="t-me")  # a claim re-run after a lost connection gets its keys back
    with database.connect_owner() as conn:
        conn.execute("update analytics.ingest_idempotency set expires_at = now() - interval '1 second'"
                     " where idempotency_key = 'expired'")

    claims = store.claim(["free", "done", "held", "expired", "mine", "free"], lock_s=60, token="t-me")

    assert claims.claimed == {"free", "expired", "mine"}
    assert claims.done == {"done"}
    assert claims.busy == {"held"}
    assert store.claim(["free", "expired", "mine"], lock_s=60, token="t-else").busy == {"free", "expired", "mine"}
