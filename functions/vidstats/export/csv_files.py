"""The export's tables as CSV files: the same lines and values as the worksheets, as text.

Numbers are written as plain digits, dates and times as ``YYYY-MM-DD[ HH:MM:SS]`` in UTC, empty cells empty,
every line as wide as the table (like the worksheet's grid). Text that a spreadsheet program would run as a
formula gets a leading single quote (``cells.neutralise_formula``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from vidstats.export.cells import pad, to_csv_text
from vidstats.export.tables import Table


def file_name(title: str, taken: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", title).strip("-._").lower() or "sheet"
    name, n = f"{stem}.csv", 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}.csv"
    taken.add(name)
    return name


def _write_lines(table: Table, handle: TextIO) -> int:
    width = len(table.columns)
    lines = 0
    writer = csv.writer(handle)
    for line in table.all_rows():
        writer.writerow([to_csv_text(v) for v in pad(line, width)])
        lines += 1
    if lines != table.total_rows:
        raise RuntimeError(f"{table.title!r}: expected {table.total_rows} lines, wrote {lines}")
    return table.row_count


def write_csv(table: Table, path: Path) -> int:
    """Writes ``table`` to ``path`` (streamed); returns the number of data rows."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        return _write_lines(table, handle)


def csv_text(table: Table) -> str:
    """``table`` as the text of its CSV file (the same bytes ``write_csv`` writes), for a download."""
    handle = io.StringIO(newline="")
    _write_lines(table, handle)
    return handle.getvalue()


def write_csv_files(tables: Sequence[Table], directory: Path) -> list[tuple[Path, int]]:
    directory.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    written = []
    for table in tables:
        path = directory / file_name(table.title, taken)
        written.append((path, write_csv(table, path)))
    return written
