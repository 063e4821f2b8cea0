"""The export's spool: rows read once (inside the snapshot) come back identical, as often as asked, from memory
or, past its memory budget, from a temporary file."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from vidstats.export.cells import Cell
from vidstats.export.tables import SPOOL_MEMORY_BYTES, STREAM_BATCH_ROWS, SpooledRows


def _rows(n: int) -> list[tuple[Cell, ...]]:
    return [("tiktok", f"https://www.tiktok.com/@u{i}/video/{7_301_000_000_000_000_000 + i}", f"caption {i} ☀️ =1+1",
             datetime(2026, 11, 1, 8, i % 60, tzinfo=UTC), i * 1_000, None, Decimal(i) / 4,
             UUID(int=i)) for i in range(n)]


def _batches(rows: list[tuple[Cell, ...]]) -> Iterator[Sequence[Sequence[Cell]]]:
    for start in range(0, len(rows), STREAM_BATCH_ROWS):
        yield rows[start:start + STREAM_BATCH_ROWS]


def test_spooled_rows_come_back_identical_and_in_order_each_time_they_are_read() -> None:
    rows = _rows(5_001)
    spool = SpooledRows().fill(_batches(rows))
    try:
        assert spool.count == 5_001
        assert [tuple(r) for r in spool()] == rows
        assert [tuple(r) for r in spool()] == rows  # a retry of a write re-reads from the start
    finally:
        spool.close()


def test_rows_beyond_the_memory_budget_go_to_a_temporary_file_compressed() -> None:
    rows = _rows(60_000)
    spool = SpooledRows().fill(_batches(rows))
    try:
        assert spool.size_bytes > SPOOL_MEMORY_BYTES
        assert spool._file._rolled  # type: ignore[attr-defined]  # on disk, not in memory
        assert spool.size_bytes < 100 * len(rows)  # compressed: these rows pickle to ~200 bytes each
        assert sum(1 for _ in spool()) == 60_000
    finally:
        spool.close()


def test_an_empty_result_spools_no_rows() -> None:
    spool = SpooledRows().fill(iter([]))
    assert (spool.count, list(spool())) == (0, [])
