"""What an export writes: one table per target ("All videos", one per campaign), read under the reader role.

Every table of one export is read in a single REPEATABLE READ, READ ONLY transaction, so the row counts (the
sheet is sized before rows are written), the campaign summaries and the rows all come from the same
snapshot. That transaction ends before anything is sent to Google: writing a large export takes minutes
(Google's 60 writes a minute, backoff on 429), and a transaction open that long would hold back vacuum on the
read relations the refresh rewrites all day. So each table's rows are read whole, a few thousand at a time
through a server-side cursor, into a ``SpooledRows``: pickled batches in memory up to ``SPOOL_MEMORY_BYTES``,
then in a temporary file (Lambda's /tmp), read back batch by batch while writing. Memory stays flat whatever
the number of videos; the disk holds about 100 bytes a row, compressed (Google's 10 million cells a spreadsheet
cap an "All videos" tab at ~470k rows: ~50 MB, well within Lambda's 512 MB of /tmp).

Why not keep the snapshot without the transaction: ``pg_export_snapshot()`` lets other sessions import a
snapshot only while the exporting transaction is still open, so it holds vacuum back exactly the same; and
reading table by table in separate transactions would let the "All videos" tab and a campaign's summary
disagree. Reading first, then writing, is the only way to have both.

Every figure is the dashboard API's, read from the same SQL definitions: totals are the latest snapshot
(``videos_with_statistics_fast``); "+Nd" is ``analytics.video_period_growth`` over the N UTC days ending with the
export's as-of day (so "+1d" is today's growth so far); a video's "growth in campaign" is
``analytics.campaign_video_growth`` up to the as-of day (from the moment it entered the campaign to its end).
An empty cell is a number nobody measured (a counter the platform does not report), never 0.
"""

from __future__ import annotations

import json
import pickle
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import IsolationLevel
from pydantic import BaseModel, ConfigDict, Field

from vidstats.db import Database, Role
from vidstats.export.cells import Cell, Column, Kind

ALL_VIDEOS_TITLE = "All videos"
ALL_VIDEOS_KEY = "all-videos"  # a worksheet's stable key (the writer finds its tab by it, not by title)
NO_VIDEOS_NOTE = "No videos in this campaign yet."
CAPTION_MAX_CHARS = 100  # a readable preview; the URL leads to the full caption
STREAM_BATCH_ROWS = 2_000  # rows per round trip of the server-side cursor, and per pickled batch of a spool
SPOOL_MEMORY_BYTES = 1_000_000  # a table's spooled rows stay in memory up to this, then go to a temporary file
_FRAME_HEADER_BYTES = 4  # each spooled batch: its compressed length, then the bytes
METRICS = ("views", "likes", "comments", "reposts", "saves")
GROWTH_WINDOWS_DAYS = (1, 7, 30)
GROWTH_METRICS = ("views", "likes", "comments")

_LEAD_COLUMNS = (
    Column("Platform", Kind.TEXT, 90),
    Column("URL", Kind.TEXT, 320),
    Column("Blogger", Kind.TEXT, 160),
    Column("Caption / title", Kind.TEXT, 360),
    Column("Tracking since (UTC)", Kind.DATETIME, 150),
    Column("Fetch health", Kind.TEXT, 220),
)
_TOTAL_COLUMNS = tuple(Column(m.capitalize(), Kind.INTEGER, 100) for m in METRICS)
_AS_OF_COLUMN = Column("Data as of (UTC)", Kind.DATETIME, 150)

ALL_VIDEOS_COLUMNS: tuple[Column, ...] = (
    *_LEAD_COLUMNS,
    *_TOTAL_COLUMNS,
    *(Column(f"{m.capitalize()} +{d}d", Kind.INTEGER, 100) for d in GROWTH_WINDOWS_DAYS for m in GROWTH_METRICS),
    _AS_OF_COLUMN,
)
CAMPAIGN_COLUMNS: tuple[Column, ...] = (
    *_LEAD_COLUMNS,
    Column("Added to campaign (UTC)", Kind.DATETIME, 150),
    *_TOTAL_COLUMNS,
    *(Column(f"{m.capitalize()} growth in campaign", Kind.INTEGER, 120) for m in METRICS),
    _AS_OF_COLUMN,
)

_CAPTION = (f"case when length(f.caption) > {CAPTION_MAX_CHARS}"
            f" then left(f.caption, {CAPTION_MAX_CHARS - 1}) || '…' else f.caption end")
# videos.fetch_health (the view's column list predates it), with the last error's class and message when not
# "tracking": "failing: quota: ...", "gone: instagram: /post: not found ...".
# A video the viewed workspace stopped tracking is "stopped" for it, whatever other workspaces do.
_FETCH_HEALTH = ("(select case when t.fetch_health = 'stopped' then 'stopped'"
                 " when h.fetch_health = 'tracking' then 'tracking' else h.fetch_health"
                 " || coalesce(': ' || h.last_error_class, '') || coalesce(': ' || left(h.last_error, 160), '') end"
                 " from analytics.videos h where h.id = f.id)")
_BLOGGER = "coalesce(b.username, b.display_name, b.platform_user_id)"
# "Tracking since": the viewed workspace's own start (analytics.workspace_video_tracking, the API's definition);
# the video's first start only when no workspace is viewed (an operator's export of every workspace).
_LEAD_SQL = (f"f.platform, f.url, {_BLOGGER}, {_CAPTION}, coalesce(t.started_at, f.tracking_started_at),"
             f" {_FETCH_HEALTH}")
_TRACKING_JOIN = "  left join analytics.workspace_video_tracking t on t.video_id = f.id"
_TOTALS_SQL = ", ".join(f"f.{m}" for m in METRICS)


_GROWTH_JOINS = "\n".join(
    f"  left join analytics.video_period_growth(%(video_ids)s::uuid[], %(day)s::date - {d - 1}, %(day)s::date) g{d}"
    f" on g{d}.video_id = f.id" for d in GROWTH_WINDOWS_DAYS)

_ALL_VIDEOS_SQL = f"""
select {_LEAD_SQL}, {_TOTALS_SQL},
       {", ".join(f"g{d}.{m}" for d in GROWTH_WINDOWS_DAYS for m in GROWTH_METRICS)},
       f.stats_created_at
  from analytics.videos_with_statistics_fast f
  left join analytics.bloggers b on b.id = f.blogger_id
{_TRACKING_JOIN}
{_GROWTH_JOINS}
 where %(workspace)s::uuid is null
    or exists (select 1 from analytics.workspace_videos wv
                where wv.video_id = f.id and wv.workspace_id = %(workspace)s::uuid)
 order by f.views desc nulls last, f.id
"""

_CAMPAIGN_SQL = f"""
select {_LEAD_SQL}, cv.added_at, {_TOTALS_SQL},
       {", ".join(f"g.{m}" for m in METRICS)},
       f.stats_created_at
  from analytics.campaign_video_growth(%(campaign)s, null, %(day)s::date) g
  join analytics.campaign_videos cv on cv.campaign_id = %(campaign)s and cv.video_id = g.video_id
  join analytics.videos_with_statistics_fast f on f.id = g.video_id
  left join analytics.bloggers b on b.id = f.blogger_id
{_TRACKING_JOIN}
 order by f.views desc nulls last, f.id
"""
_FIRST_TOTAL = len(_LEAD_COLUMNS) + 1  # campaign rows: lead columns, added_at, then totals
_CAMPAIGN_SUMMARY_SQL = f"""
select count(*), max(x.as_of),
       {", ".join(f"sum(x.c{i})" for i in range(_FIRST_TOTAL, _FIRST_TOTAL + 2 * len(METRICS)))}
  from ({_CAMPAIGN_SQL.replace(" order by f.views desc nulls last, f.id", "")}) as x(
       {", ".join(f"c{i}" for i in range(len(CAMPAIGN_COLUMNS) - 1))}, as_of)
"""


class ExportTarget(BaseModel):
    """One worksheet to keep current: "All videos" (no campaign_id) or one campaign's videos."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spreadsheet_id: str = Field(pattern=r"^[A-Za-z0-9_-]{10,200}$")
    campaign_id: UUID | None = None
    # The workspace whose target this is: "All videos" holds its videos only, and a campaign must be its own.
    # None (the CLI's CSV export, an operator's): every workspace.
    workspace_id: UUID | None = None
    # Worksheet title; default "All videos", or the campaign's name.
    worksheet: str | None = Field(default=None, min_length=1, max_length=100)


class SpooledRows:
    """The rows of one query, read once and kept compact: batches of ``STREAM_BATCH_ROWS`` rows, pickled and
    compressed (zlib level 1: about a quarter of the size for ~2 ms of CPU per thousand rows), in memory up to
    ``SPOOL_MEMORY_BYTES``, then in a temporary file. Calling it iterates the rows (from the start at each call),
    holding one batch at a time."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115 - closed by close()
        self.count = 0

    @property
    def size_bytes(self) -> int:
        return self._file.seek(0, 2)

    def fill(self, batches: Iterator[Sequence[Sequence[Cell]]]) -> SpooledRows:
        self._file.seek(0, 2)
        for batch in batches:
            frame = zlib.compress(pickle.dumps(list(batch), protocol=pickle.HIGHEST_PROTOCOL), 1)
            self._file.write(len(frame).to_bytes(_FRAME_HEADER_BYTES, "big"))
            self._file.write(frame)
            self.count += len(batch)
        return self

    def __call__(self) -> Iterator[Sequence[Cell]]:
        self._file.seek(0)
        while header := self._file.read(_FRAME_HEADER_BYTES):
            frame = self._file.read(int.from_bytes(header, "big"))
            # Our own bytes, written above by this process into its private temporary file.
            yield from pickle.loads(zlib.decompress(frame))  # noqa: S301

    def close(self) -> None:
        self._file.close()


@dataclass
class Table:
    """A worksheet's content: optional lines above the header (a summary), the header, the rows."""

    title: str
    columns: Sequence[Column]
    row_count: int
    rows: Callable[[], Iterator[Sequence[Cell]]]  # the rows, already read (a SpooledRows)
    preamble: list[list[Cell]] = field(default_factory=list)
    target: ExportTarget | None = None
    # What the worksheet is of, whatever its title: "all-videos" or "campaign:<id>" (a rename keeps the key).
    key: str = ALL_VIDEOS_KEY

    @property
    def header_row(self) -> int:
        """1-based row number of the header."""
        return len(self.preamble) + 1

    @property
    def total_rows(self) -> int:
        return self.header_row + self.row_count

    def all_rows(self) -> Iterator[Sequence[Cell]]:
        """Every line as written, top to bottom (what a CSV file of the table holds)."""
        yield from self.preamble
        yield [c.title for c in self.columns]
        yield from self.rows()

    def close(self) -> None:
        """Frees the spooled rows (memory or temporary file)."""
        if isinstance(self.rows, SpooledRows):
            self.rows.close()


class ExportConfigError(ValueError):
    """A configured target cannot be exported as it is (unknown campaign)."""


@contextmanager
def snapshot(db: Database, role: Role = Role.EXPORT) -> Iterator[psycopg.Connection]:
    """One REPEATABLE READ, READ ONLY transaction: every table sees the same data. The export's role reads every
    workspace; the dashboard's (``Role.READER``, with its caller) only the caller's."""
    conn = db.connection()
    saved = conn.isolation_level, conn.read_only
    conn.isolation_level, conn.read_only = IsolationLevel.REPEATABLE_READ, True
    try:
        with db.transaction(role) as tx:
            yield tx
    finally:
        conn.isolation_level, conn.read_only = saved


def _read(conn: psycopg.Connection, query: str, params: dict[str, Any], name: str) -> SpooledRows:
    """Every row of ``query``, read now (inside the caller's snapshot) into a spool."""
    # Every row is read: plan for the whole result, not for the first 10% a cursor is assumed to want
    # (which picks nested loops that re-aggregate the growth per row: minutes instead of seconds).
    conn.execute("set local cursor_tuple_fraction = 1.0")
    spool = SpooledRows()
    try:
        with conn.cursor(name=name) as cursor:
            cursor.execute(query.encode(), params)
            return spool.fill(iter(lambda: cursor.fetchmany(STREAM_BATCH_ROWS), []))
    except BaseException:
        spool.close()
        raise


def _view_workspace(conn: psycopg.Connection, workspace_id: UUID | None) -> None:
    """The workspace the next reads are about (None: every workspace's, the operator's view), named the way the
    API's callers name theirs: its own tracking dates and states then show in the rows."""
    headers = json.dumps({"x-workspace-id": str(workspace_id)} if workspace_id else {})
    conn.execute("select set_config('request.headers', %s, true)", (headers,))


def all_videos_table(conn: psycopg.Connection, as_of_day: date, target: ExportTarget | None = None) -> Table:
    workspace = target.workspace_id if target else None
    _view_workspace(conn, workspace)
    # A workspace's growth is summed over its own videos only, not every video's (NULL: all of them).
    video_ids = None if workspace is None else [r[0] for r in conn.execute(
        "select video_id from analytics.workspace_videos where workspace_id = %s", (workspace,))]
    rows = _read(conn, _ALL_VIDEOS_SQL, {"day": as_of_day, "workspace": workspace, "video_ids": video_ids},
                 "export_all_videos")
    return Table(
        title=(target.worksheet if target and target.worksheet else ALL_VIDEOS_TITLE),
        columns=ALL_VIDEOS_COLUMNS,
        row_count=rows.count,
        rows=rows,
        target=target,
    )


def campaign_table(conn: psycopg.Connection, campaign_id: UUID, as_of_day: date,
                   target: ExportTarget | None = None) -> Table:
    campaign = conn.execute("select name, starts_at, ends_at, workspace_id from analytics.campaigns where id = %s"
                            " and (%s::uuid is null or workspace_id = %s::uuid)",
                            (campaign_id, target.workspace_id if target else None,
                             target.workspace_id if target else None)).fetchone()
    if campaign is None:
        raise ExportConfigError(f"campaign {campaign_id} does not exist: remove it from the export targets "
                                "(SHEETS_EXPORT_TARGETS) or fix its id")
    name, starts_at, ends_at, workspace_id = campaign
    _view_workspace(conn, workspace_id)  # a campaign is one workspace's: its videos as that workspace tracks them
    params = {"day": as_of_day, "campaign": campaign_id}
    summary = conn.execute(_CAMPAIGN_SUMMARY_SQL.encode(), params).fetchone()
    assert summary is not None
    count, as_of, *sums = summary
    n = len(METRICS)
    preamble: list[list[Cell]] = [
        ["Campaign", name, "Starts (UTC)", starts_at, "Ends (UTC)", ends_at if ends_at else "open",
         "Videos", count, "Data as of (UTC)", as_of],
        ["Totals vs increments", *(m.capitalize() for m in METRICS)],
        ["Totals (latest fetch)", *sums[:n]],
        ["Growth in campaign", *sums[n:]],
        ["Growth counts what each video gained after it entered the campaign (the later of the campaign start "
         "and the moment it was added) and before the campaign end; totals include everything before. "
         "Empty: not measured."],
        [NO_VIDEOS_NOTE] if count == 0 else [],  # the header stays on line 7 either way
    ]
    rows = _read(conn, _CAMPAIGN_SQL, params, f"export_campaign_{campaign_id.hex}")
    return Table(
        title=(target.worksheet if target and target.worksheet else str(name)[:100]),
        columns=CAMPAIGN_COLUMNS,
        row_count=rows.count,
        rows=rows,
        preamble=preamble,
        target=target,
        key=campaign_key(campaign_id),
    )


def campaign_key(campaign_id: UUID) -> str:
    return f"campaign:{campaign_id}"


def table_for(conn: psycopg.Connection, target: ExportTarget, as_of: datetime) -> Table:
    """The table of one target, read whole now (summary, row count and rows)."""
    if target.campaign_id:
        return campaign_table(conn, target.campaign_id, as_of.date(), target)
    return all_videos_table(conn, as_of.date(), target)


def tables_for(conn: psycopg.Connection, targets: Sequence[ExportTarget], as_of: datetime) -> list[Table]:
    """The tables of ``targets``. Equal titles are fine: the Sheets writer makes titles unique per spreadsheet
    (ignoring case), the CSV writer file names."""
    return [table_for(conn, t, as_of) for t in targets]


def all_campaign_ids(conn: psycopg.Connection, workspace_id: UUID | None = None) -> list[UUID]:
    return [r[0] for r in conn.execute("select id from analytics.campaigns where %s::uuid is null"
                                       " or workspace_id = %s::uuid order by starts_at, id",
                                       (workspace_id, workspace_id)).fetchall()]
