"""Database access for creators (``analytics.bloggers``): one row per platform account, named by the platform.

A creator is keyed by ``(platform, platform_user_id)``, the platform's stable id (TikTok user id, Instagram pk,
YouTube channel id), whichever path met it first: a fetched video's answer (``save_creators`` /
``creator_ids``) or a blogger batch. A batch that knows only the handle keys the row by the handle
(``keyed_by_handle``) until an answer names the id with that handle: the row is then re-keyed, or folded into
the id's row if both exist (its videos and batches move, nothing is lost). Handle and display name follow the
latest answer that states them; a missing value never erases a known one.

Functions take an open connection inside ``Database.transaction(Role.INGEST)``: the caller owns the transaction.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from threading import Lock
from uuid import UUID

import psycopg

from vidstats.ingestion.binary_arrays import text_array
from vidstats.platforms import Platform
from vidstats.providers.base import VideoCounters

_YOUTUBE_CHANNEL_ID = re.compile(r"UC[0-9A-Za-z_-]{22}")


@dataclass(frozen=True)
class Creator:
    """A creator as an answer names it. ``platform_user_id`` is the platform's id, or the handle when
    ``keyed_by_handle`` (a listing that did not name the id)."""

    platform: Platform
    platform_user_id: str
    username: str | None = None  # the handle, without TikTok's "@"; YouTube keeps its "@handle" form
    display_name: str | None = None
    keyed_by_handle: bool = False

    @classmethod
    def from_counters(cls, counters: VideoCounters) -> Creator | None:
        """The author an answer names, or None when it names no id (a handle alone is not an identity)."""
        author_id = (counters.author_id or "").strip()
        if not author_id:
            return None
        username = (counters.author_username or "").strip()
        if counters.platform is not Platform.YOUTUBE:
            username = username.lstrip("@")
        return cls(counters.platform, author_id, username or None, (counters.author_name or "").strip() or None)

    @classmethod
    def by_handle(cls, platform: Platform, handle: str, display_name: str | None = None) -> Creator:
        handle = handle.strip() if platform is Platform.YOUTUBE else handle.strip().lstrip("@")
        return cls(platform, handle, handle, display_name, keyed_by_handle=True)

    @cached_property  # looked up several times per video of a batch
    def key(self) -> tuple[str, str]:
        return self.platform.value, self.platform_user_id

    @property
    def profile_url(self) -> str | None:
        if self.platform is Platform.YOUTUBE:
            if not self.keyed_by_handle and _YOUTUBE_CHANNEL_ID.fullmatch(self.platform_user_id):
                return f"https://www.youtube.com/channel/{self.platform_user_id}"
            handle = self.username or ""
            return f"https://www.youtube.com/{handle}" if handle.startswith("@") else None
        if not self.username:
            return None
        if self.platform is Platform.TIKTOK:
            return f"https://www.tiktok.com/@{self.username}"
        return f"https://www.instagram.com/{self.username}/"


def _merged(creators: Sequence[Creator]) -> list[Creator]:
    """One entry per key (the last stated handle and name win), in key order: a stable lock order."""
    by_key: dict[tuple[str, str], Creator] = {}
    for creator in creators:
        known = by_key.get(creator.key)
        if known is not None and known != creator:  # a batch's answers for one creator are usually the same
            creator = Creator(creator.platform, creator.platform_user_id, creator.username or known.username,
                              creator.display_name or known.display_name,
                              creator.keyed_by_handle and known.keyed_by_handle)
        by_key[creator.key] = creator
    return [by_key[key] for key in sorted(by_key)]


def _rekey_handle_rows(conn: psycopg.Connection, creators: Sequence[Creator]) -> None:
    """Handle-keyed rows whose handle an answer now pairs with the platform id: re-key them, or fold them in."""
    named = [c for c in creators if c.username and not c.keyed_by_handle]
    if not named:
        return
    rows = conn.execute(
        """
        select h.id, s.platform_user_id, t.id
          from unnest(%s::text[], %s::text[], %s::text[]) as s(platform, platform_user_id, username)
          join analytics.bloggers h
            on h.platform = s.platform and lower(h.username) = lower(s.username) and h.keyed_by_handle
          left join analytics.bloggers t on t.platform = s.platform and t.platform_user_id = s.platform_user_id
         order by h.id
           for update of h
        """,
        ([c.platform.value for c in named], [c.platform_user_id for c in named], [c.username for c in named]),
    ).fetchall()
    done: set[UUID] = set()
    for handle_row, platform_user_id, id_row in rows:
        if handle_row in done:
            continue
        done.add(handle_row)
        if id_row is None:
            conn.execute(
                "update analytics.bloggers set platform_user_id = %s, keyed_by_handle = false, updated_at = now()"
                " where id = %s", (platform_user_id, handle_row))
        else:
            fold_blogger(conn, handle_row, into=id_row)


def fold_blogger(conn: psycopg.Connection, duplicate: UUID, *, into: UUID) -> None:
    """Moves a duplicate row's videos and batches to ``into`` and deletes it (the older creation time stays)."""
    conn.execute("update analytics.videos set blogger_id = %s where blogger_id = %s", (into, duplicate))
    conn.execute("update analytics.blogger_batches set blogger_id = %s where blogger_id = %s", (into, duplicate))
    conn.execute(
        "update analytics.bloggers t set created_at = least(t.created_at, d.created_at), updated_at = now()"
        "  from analytics.bloggers d where t.id = %s and d.id = %s", (into, duplicate))
    conn.execute("delete from analytics.bloggers where id = %s", (duplicate,))


def save_creators(conn: psycopg.Connection, creators: Sequence[Creator]) -> dict[tuple[str, str], UUID]:
    """Creates or updates each creator's row (re-keying handle rows first); returns the row id per key.

    A row is written only when something it states changed, so the nightly fetch of a million videos does not
    rewrite their creators' rows.
    """
    merged = _merged(creators)
    if not merged:
        return {}
    _rekey_handle_rows(conn, merged)
    columns = (
        [c.platform.value for c in merged], [c.platform_user_id for c in merged], [c.username for c in merged],
        [c.display_name for c in merged], [c.profile_url for c in merged], [c.keyed_by_handle for c in merged],
    )
    conn.execute(
        """
        insert into analytics.bloggers as b
               (platform, platform_user_id, username, display_name, profile_url, keyed_by_handle)
        select * from unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::bool[])
        on conflict (platform, platform_user_id) do update
           set username = coalesce(excluded.username, b.username),
               display_name = coalesce(excluded.display_name, b.display_name),
               profile_url = coalesce(excluded.profile_url, b.profile_url),
               updated_at = now()
         where excluded.username is distinct from b.username and excluded.username is not null
            or excluded.display_name is distinct from b.display_name and excluded.display_name is not null
            or excluded.profile_url is distinct from b.profile_url and excluded.profile_url is not null
        """,
        columns,
    )
    rows = conn.execute(
        """
        select b.platform, b.platform_user_id, b.id
          from unnest(%s::text[], %s::text[]) as k(platform, platform_user_id)
          join analytics.bloggers b on b.platform = k.platform and b.platform_user_id = k.platform_user_id
        """,
        columns[:2],
    ).fetchall()
    return {(r[0], r[1]): UUID(str(r[2])) for r in rows}


def attach_creators(conn: psycopg.Connection, seen: Sequence[tuple[UUID, Creator]]) -> int:
    """Each video's creator as its fetched answer names it: saved, and set as the video's blogger.

    Returns how many videos changed creator (usually none: a video keeps its author). The queue processor
    sets the blogger with the rest of a fetch's bookkeeping instead (``creator_ids``, then
    ``videos_repository.record_fetch_outcomes``): one write of the video, not two.
    """
    if not seen:
        return 0
    ids = creator_ids(conn, [creator for _, creator in seen])
    return attach_videos(conn, [(video_id, ids[creator.key]) for video_id, creator in seen])


class KnownCreators:
    """Creators this process found stored exactly as an answer states them (or wrote so), with their row ids: a
    bounded, expiring per-process memory (a warm Lambda keeps it across batches) that spares ``creator_ids`` its
    read when a batch's answers say nothing new.

    An entry is the whole answer (id, handle, display name): an answer stating anything else misses it and is
    checked against the table as before. Entries are added only once the transaction that found or wrote the row
    committed (``remember``), and all are dropped when a write fails (``forget_all``: a row deleted meanwhile
    fails the video's foreign key, and the retry reads the table again).

    What another process changes meanwhile is seen once the entry expires (``ttl_s``): a newer handle written by
    another answer is not overwritten by an answer still stating the old one (which is what the read would have
    let happen), and a handle-keyed row created with this creator's handle (a blogger batch after a rename) is
    folded in by the first answer after expiry, instead of the first answer. A creator row is never deleted
    except by such a fold, which keeps the id-keyed row an entry names.
    """

    def __init__(self, *, max_entries: int = 20_000, ttl_s: float = 900.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._max_entries = max_entries  # an entry takes about 1 kB: 20,000 are 20 MB of the function's 512
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[Creator, tuple[UUID, float]] = {}  # insertion order: the oldest first
        self._lock = Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def split(self, creators: Sequence[Creator]) -> tuple[dict[tuple[str, str], UUID], list[Creator]]:
        """The row ids of the creators whose every answer here is known (and not expired), and the answers of the
        other creators (all of a creator's answers, known or not: they are merged as before)."""
        now = self._clock()
        ids: dict[tuple[str, str], UUID] = {}
        unknown: set[tuple[str, str]] = set()
        with self._lock:
            for creator in set(creators):
                entry = self._entries.get(creator)
                if entry is None or entry[1] <= now:
                    unknown.add(creator.key)
                else:
                    ids[creator.key] = entry[0]
        if not unknown:
            return ids, []
        for key in unknown:
            ids.pop(key, None)
        return ids, [creator for creator in creators if creator.key in unknown]

    def remember(self, creators: Sequence[Creator], ids: Mapping[tuple[str, str], UUID]) -> None:
        """The answers' creators as stored by a transaction that committed (``ids``: ``creator_ids``' answer).

        An entry still valid keeps its expiry: a creator seen in every batch is read again once per ``ttl_s``.
        """
        now = self._clock()
        with self._lock:
            new = set()
            for creator in set(creators):
                entry = self._entries.get(creator)
                if entry is None or entry[1] <= now or entry[0] != ids.get(creator.key):
                    new.add(creator.key)
            if not new:
                return
            # What was read or written: each creator's answers merged, as ``creator_ids`` checked them.
            for creator in _merged([creator for creator in creators if creator.key in new]):
                row = ids.get(creator.key)
                if row is not None:
                    self._entries.pop(creator, None)  # re-added last: the oldest go first
                    self._entries[creator] = (row, now + self._ttl_s)
            while len(self._entries) > self._max_entries:
                del self._entries[next(iter(self._entries))]

    def forget_all(self) -> None:
        with self._lock:
            self._entries.clear()


def creator_ids(conn: psycopg.Connection, creators: Sequence[Creator], *,
                known: KnownCreators | None = None) -> dict[tuple[str, str], UUID]:
    """Each creator's row id, after saving what the answers change (``save_creators``).

    The usual nightly fetch changes nothing: one read finds every row as stated and no handle-keyed row
    waiting for one of these handles, and nothing is written or locked (the upsert locks every row it meets,
    changed or not). A change made meanwhile by another transaction is followed by the next fetch. With
    ``known``, the creators whose answers this process already found stored are not read (the caller
    ``remember``s what it read once its transaction committed).
    """
    found: dict[tuple[str, str], UUID] = {}
    if known is not None:
        found, creators = known.split(creators)
    merged = _merged(creators)
    if not merged:
        return found
    stored = _unchanged_creator_ids(conn, merged)
    return {**found, **(stored if stored is not None else save_creators(conn, merged))}


def _unchanged_creator_ids(conn: psycopg.Connection, merged: Sequence[Creator]) -> dict[tuple[str, str], UUID] | None:
    """The rows' ids if every creator's row exists, keyed by its id, stating what the answer does (a value the
    answer leaves out counts as stated), and no handle-keyed row has one of their handles; else None."""
    columns = {"platform": text_array([c.platform.value for c in merged]),
               "user_id": text_array([c.platform_user_id for c in merged]),
               "username": text_array([c.username for c in merged]),
               "name": text_array([c.display_name for c in merged]),
               "url": text_array([c.profile_url for c in merged]),
               "platforms": text_array(sorted({c.platform.value for c in merged})),
               "handles": text_array(sorted({c.username.lower() for c in merged if c.username}))}
    # Rows found through the (platform, platform_user_id) key, and one probe of the handle index.
    rows = conn.execute(
        """
        select b.platform, b.platform_user_id, b.id
          from unnest(%(platform)b::text[], %(user_id)b::text[], %(username)b::text[], %(name)b::text[],
                      %(url)b::text[]) as s(platform, platform_user_id, username, display_name, profile_url)
          join analytics.bloggers b on b.platform = s.platform and b.platform_user_id = s.platform_user_id
         where b.platform = any(%(platforms)b::text[]) and b.platform_user_id = any(%(user_id)b::text[])
           and not b.keyed_by_handle
           and (s.username is null or s.username = b.username)
           and (s.display_name is null or s.display_name = b.display_name)
           and (s.profile_url is null or s.profile_url = b.profile_url)
           and not exists (select from analytics.bloggers h
                            where h.platform = any(%(platforms)b::text[])
                              and lower(h.username) = any(%(handles)b::text[]) and h.keyed_by_handle)
        """,
        columns,
    ).fetchall()
    if len(rows) != len(merged):
        return None
    return {(r[0], r[1]): UUID(str(r[2])) for r in rows}


def attach_videos(conn: psycopg.Connection, pairs: Sequence[tuple[UUID, UUID]]) -> int:
    """Sets each (video, blogger) pair's blogger; writes only the videos whose blogger changes."""
    by_video = dict(pairs)
    if not by_video:
        return 0
    ordered = sorted(by_video, key=str)  # a stable lock order
    # Arrays in binary (%b): a nightly batch passes a thousand pairs, almost all unchanged. ``v.id = any(ids)``:
    # found by primary key, never by reading the whole table (see videos_repository.record_fetch_outcomes).
    cursor = conn.execute(
        """
        update analytics.videos v set blogger_id = u.blogger_id
          from unnest(%(video_id)b::uuid[], %(blogger_id)b::uuid[]) as u(video_id, blogger_id)
         where v.id = u.video_id and v.id = any(%(video_id)b::uuid[]) and v.blogger_id is distinct from u.blogger_id
        """,
        {"video_id": ordered, "blogger_id": [by_video[v] for v in ordered]},
    )
    return cursor.rowcount


def blogger_by_handle(conn: psycopg.Connection, platform: Platform, handle: str) -> UUID | None:
    """The row of the creator whose current handle this is (a listing that names no id), if any."""
    handle = handle.strip() if platform is Platform.YOUTUBE else handle.strip().lstrip("@")
    row = conn.execute(
        "select id from analytics.bloggers where platform = %s and lower(username) = lower(%s)"
        " order by keyed_by_handle, updated_at desc limit 1",
        (platform.value, handle),
    ).fetchone()
    return None if row is None else UUID(str(row[0]))
