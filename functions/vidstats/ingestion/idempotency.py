"""Idempotency of queue work, kept in Postgres (``analytics.ingest_claims``).

Why not Powertools' DynamoDB layer: its "completed" write is a separate call after the work, so a function
that dies between committing snapshots and that call leaves the key in progress; once the claim expires the
redelivered message fetches and inserts again, a duplicate snapshot. Here a work item is claimed before its
provider call (its own short transaction: a concurrent duplicate sees the claim and backs off) and completed
*inside the transaction that writes its snapshot* (``complete``), so "snapshot written" and "key done" commit
or roll back together. It also needs no extra AWS resource, and the claim of a whole batch is one statement
(Powertools' layer does one round trip per record).

Completion costs one row whatever the batch size: every claim carries its claimant's token, and ``complete``
records the token in ``analytics.ingest_commits`` after deleting the claims of the items it did not finish. A
claim whose token is committed is done. So a claimant's token must be used for one unit of work (one write
transaction): a claim made with a token that already committed would count as done at once.

A claim is a narrow row (a claim is written per video before its provider call, as many as the snapshots): keys
and tokens are stored as the md5 of their text, as uuids, hashed by the server (``md5(key)::uuid``); the keys
this module handles stay text.

Keys are per video (``<request id>:<video id>``): when 3 of a message's 50 videos time out, the retry
refetches those 3, not all 50; and a rerun of a night's refresh skips what that night already fetched,
however its videos fall into messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import psycopg

from vidstats.db import Database, Role
from vidstats.ingestion.binary_arrays import text_array
from vidstats.ingestion.pipelined import pipelined_transaction


@dataclass
class Claims:
    claimed: set[str] = field(default_factory=set)  # ours to do now
    done: set[str] = field(default_factory=set)  # completed within the window: skip, no provider call
    busy: set[str] = field(default_factory=set)  # claimed by another live invocation: retry later


class IdempotencyStore:
    def __init__(self, db: Database, *, window_s: int) -> None:
        self._db = db
        self._window_s = window_s

    def claim(self, keys: Iterable[str], *, lock_s: float, token: str) -> Claims:
        """Claims every key not completed (within the window) nor held by another live claim.

        ``token`` identifies the claimant (one unit of work): re-running a claim with the same token (after a
        lost connection) gets its own keys back instead of reporting them busy.
        """
        unique = sorted(set(keys))
        claims = Claims()
        # Arrays go in binary (%b): psycopg dumps a 1,000-key text array about 10x faster than as text.
        if not unique:
            return claims
        params = {"keys": text_array(unique), "lock": lock_s, "token": token, "window": self._window_s}
        # The usual case, no key ever seen: a plain insert (pipelined, one round trip). It is a third cheaper for
        # the server than the upsert below (no speculative insertion per row), and a key already there fails it
        # whole (a concurrent claimant's too: the unique check waits for it), rolled back: the upsert then sorts
        # the keys out. A redelivery so costs a round trip more, and an error line in the server's log.
        try:
            with pipelined_transaction(self._db, Role.INGEST) as conn:
                conn.execute(
                    """
                    insert into analytics.ingest_claims (claim_id, claimed_by, locked_until, expires_at)
                    select md5(key)::uuid, md5(%(token)s)::uuid, now() + make_interval(secs => %(lock)s),
                           now() + make_interval(secs => %(window)s)
                      from unnest(%(keys)b::text[]) as key
                    """,
                    params,
                )
        except psycopg.errors.UniqueViolation:
            pass
        else:
            claims.claimed = set(unique)
            return claims
        # Some keys were seen: an upsert that takes the free and expired ones, touching only the keys' own rows,
        # and its count read once it committed.
        with pipelined_transaction(self._db, Role.INGEST) as conn:
            cursor = conn.execute(
                """
                with claimed as (
                    insert into analytics.ingest_claims as i (claim_id, claimed_by, locked_until, expires_at)
                    select md5(key)::uuid, md5(%(token)s)::uuid, now() + make_interval(secs => %(lock)s),
                           now() + make_interval(secs => %(window)s)
                      from unnest(%(keys)b::text[]) as key
                    on conflict (claim_id) do update
                       set claimed_by = excluded.claimed_by, locked_until = excluded.locked_until,
                           expires_at = excluded.expires_at
                     where i.expires_at < now()
                        or (not exists (select from analytics.ingest_commits c where c.claimed_by = i.claimed_by)
                            and (i.locked_until < now() or i.claimed_by = excluded.claimed_by))
                    returning 1
                )
                select count(*) from claimed
                """,
                params,
            )
        count = cursor.fetchone()
        if count is not None and count[0] == len(unique):
            claims.claimed = set(unique)
            return claims
        # Some keys were done or held. Ours carry our token (a committed token is never reused); a key gone
        # meanwhile (released, purged) reads as held: the next delivery claims it.
        with self._db.transaction(Role.INGEST) as conn:
            rows = conn.execute(
                """
                select k.key, i.claimed_by = md5(%(token)s)::uuid
                       and not exists (select from analytics.ingest_commits c where c.claimed_by = i.claimed_by),
                       exists (select from analytics.ingest_commits c where c.claimed_by = i.claimed_by)
                  from unnest(%(keys)b::text[]) as k(key)
                  join analytics.ingest_claims i on i.claim_id = md5(k.key)::uuid
                """,
                params,
            ).fetchall()
        for key, ours, done in rows:
            if ours:
                claims.claimed.add(key)
            elif done:
                claims.done.add(key)
        claims.busy = set(unique) - claims.claimed - claims.done
        return claims

    def complete(self, conn: psycopg.Connection, *, token: str, unfinished: Sequence[str] = ()) -> None:
        """Marks the token's claims done, in the caller's transaction (the one writing their snapshots).

        ``unfinished``: keys this token claimed but did not finish; their claims are dropped in the same
        transaction, so they are never taken for done and the next delivery fetches them.
        """
        _drop_claims(conn, unfinished, token)
        conn.execute("insert into analytics.ingest_commits (claimed_by) values (md5(%s)::uuid) on conflict do nothing",
                     (token,))

    def release(self, keys: Sequence[str], *, token: str) -> None:
        """Gives up our claims (the work failed and will be retried). Best effort: an expired lock does too.

        Nothing is given up if the token committed after all: a write can commit and its reply still be lost,
        and dropping its claims then would let a redelivery fetch and insert those snapshots a second time.
        """
        if keys:
            with self._db.transaction(Role.INGEST) as conn:
                committed = conn.execute("select from analytics.ingest_commits where claimed_by = md5(%s)::uuid",
                                         (token,)).fetchone()
                if committed is None:
                    _drop_claims(conn, keys, token)

    def purge_expired(self, *, limit: int = 50_000, max_rounds: int = 40) -> int:
        """Forgets keys past the window, ``limit`` at a time (each its own transaction) until none is left or
        ``max_rounds`` passed, then commits no unexpired claim can refer to any more. Returns the keys forgotten.

        A nightly run claims a key per video: one round of 50,000 could not keep up with more videos than that.
        Each round reads the table until it finds its rows (no index on the expiry: every claim would pay for it).
        """
        purged = 0
        for _ in range(max_rounds):
            with self._db.transaction(Role.INGEST) as conn:
                cursor = conn.execute(
                    """
                    delete from analytics.ingest_claims
                     where claim_id in (select claim_id from analytics.ingest_claims where expires_at < now()
                                         limit %s)
                    """,
                    (limit,),
                )
            purged += cursor.rowcount
            if cursor.rowcount < limit:
                break
        with self._db.transaction(Role.INGEST) as conn:
            # A claim expires a window after it was made, and its commit comes after the claim: a commit older
            # than the window belongs only to expired claims.
            conn.execute("delete from analytics.ingest_commits where committed_at < now() - make_interval(secs => %s)",
                         (self._window_s,))
        return purged


def _drop_claims(conn: psycopg.Connection, keys: Sequence[str], token: str) -> None:
    if keys:
        conn.execute(
            "delete from analytics.ingest_claims"
            " where claim_id = any(array(select md5(k)::uuid from unnest(%b::text[]) as k))"
            " and claimed_by = md5(%s)::uuid",
            (sorted(set(keys)), token),
        )
