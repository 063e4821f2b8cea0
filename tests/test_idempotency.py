"""The Postgres idempotency store on its own: claims, completion by committed token, release, purge."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from vidstats.db import Database, Role
from vidstats.ingestion.idempotency import Claims, IdempotencyStore
from vidstats.migrations import default_migrations_dir, migrate

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
        conn.execute("update analytics.ingest_claims set expires_at = expires_at - interval '2 hours'"
                     " where claimed_by = md5('t-old')::uuid")
        conn.execute("update analytics.ingest_commits set committed_at = committed_at - interval '2 hours'"
                     " where claimed_by = md5('t-old')::uuid")

    assert store.purge_expired() == 2

    with database.connect_owner() as conn:
        # Keys and tokens are stored as the md5 of their text.
        keys = conn.execute("select array_agg(claim_id = md5('fresh')::uuid) from analytics.ingest_claims").fetchone()
        commits = conn.execute("select array_agg(claimed_by = md5('t-new')::uuid) from analytics.ingest_commits"
                               ).fetchone()
    assert keys == ([True],)
    assert commits == ([True],)
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
        conn.execute("update analytics.ingest_claims set expires_at = now() - interval '1 second'"
                     " where claim_id = md5('expired')::uuid")

    claims = store.claim(["free", "done", "held", "expired", "mine", "free"], lock_s=60, token="t-me")

    assert claims.claimed == {"free", "expired", "mine"}
    assert claims.done == {"done"}
    assert claims.busy == {"held"}
    assert store.claim(["free", "expired", "mine"], lock_s=60, token="t-else").busy == {"free", "expired", "mine"}


NARROW_CLAIMS = "20261203110100"


def test_claims_in_flight_when_the_narrow_claims_migrate_keep_their_meaning(
    empty_database: IsolatedDatabase, tmp_path: Path
) -> None:
    for migration in sorted(default_migrations_dir().glob("*.sql")):
        if migration.name < NARROW_CLAIMS:
            shutil.copy(migration, tmp_path)
    migrate(empty_database.owner_url, tmp_path)
    with empty_database.connect_owner() as conn:  # what the processor had written before
        conn.execute(
            "insert into analytics.ingest_idempotency (idempotency_key, status, locked_until, claimed_by, expires_at)"
            " values ('done-old-way', 'completed', null, 't-1', now() + interval '1 hour'),"
            " ('done', 'in_progress', now() + interval '1 hour', 't-committed', now() + interval '1 hour'),"
            " ('held', 'in_progress', now() + interval '1 hour', 't-live', now() + interval '1 hour'),"
            " ('abandoned', 'in_progress', now() - interval '1 second', 't-dead', now() + interval '1 hour')")
        conn.execute("insert into analytics.ingest_claim_commits (claimed_by) values ('t-committed')")
    for migration in sorted(default_migrations_dir().glob("*.sql")):
        shutil.copy(migration, tmp_path)
    migrate(empty_database.owner_url, tmp_path)

    db = Database(empty_database.owner_url)
    try:
        store = IdempotencyStore(db, window_s=3600)
        claims = store.claim(["done-old-way", "done", "held", "abandoned", "new"], lock_s=60, token="t-new")
        assert claims.done == {"done-old-way", "done"}
        assert claims.busy == {"held"}
        assert claims.claimed == {"abandoned", "new"}
        assert store.claim(["held"], lock_s=60, token="t-live").claimed == {"held"}  # its holder may re-run it
    finally:
        db.close()


def test_purge_forgets_every_expired_key_a_round_at_a_time(db: Database, database: IsolatedDatabase) -> None:
    store = IdempotencyStore(db, window_s=3600)
    store.claim(["a", "b", "c", "kept"], lock_s=60, token="t1")
    with database.connect_owner() as conn:
        conn.execute("update analytics.ingest_claims set expires_at = now() - interval '1 second'"
                     " where claim_id <> md5('kept')::uuid")

    assert store.purge_expired(limit=2) == 3  # two rounds of two, the second short

    assert store.claim(["a", "b", "c", "kept"], lock_s=60, token="t2").busy == {"kept"}


def test_a_claim_racing_an_uncommitted_claim_of_the_same_new_keys_waits_and_finds_them_held(
    db: Database, database: IsolatedDatabase
) -> None:
    """Never-seen keys are claimed by a plain insert; a concurrent claimant's uncommitted insert of one of them
    makes it wait, then fail whole and fall back to the upsert, which reports that key held, the others ours."""
    store = IdempotencyStore(db, window_s=3600)
    result: dict[str, Claims] = {}
    with database.connect_owner() as other, other.transaction():
        other.execute("insert into analytics.ingest_claims (claim_id, claimed_by, locked_until, expires_at)"
                      " values (md5('b')::uuid, md5('t-other')::uuid, now() + interval '1 minute',"
                      " now() + interval '1 hour')")
        racing = threading.Thread(target=lambda: result.update(
            claims=store.claim(["a", "b", "c"], lock_s=60, token="t-me")))
        racing.start()
        racing.join(0.5)
        assert racing.is_alive()  # waiting on the other claimant's key
    racing.join(10)  # the other claimant committed

    assert result["claims"].claimed == {"a", "c"}
    assert result["claims"].busy == {"b"}
    assert store.claim(["a", "c"], lock_s=60, token="t-third").busy == {"a", "c"}  # the fallback's claims stand
