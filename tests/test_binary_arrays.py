"""The write path's packed binary arrays read back as the server reads psycopg's own lists of the same values."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from vidstats.ingestion.binary_arrays import int8_array, text_array, timestamptz_array, uuid_array

from tests.conftest import IsolatedDatabase

IDS = [uuid.uuid4() for _ in range(3)]
CASES: list[tuple[Callable[[Any], bytes], str, Sequence[Any]]] = [
    (uuid_array, "uuid[]", IDS),
    (uuid_array, "uuid[]", [None, IDS[0], None]),
    (uuid_array, "uuid[]", []),
    (int8_array, "int8[]", [0, 1, -5, 2**63 - 1, -(2**63)]),
    (int8_array, "int8[]", [None, 7, None]),
    (int8_array, "int8[]", []),
    (text_array, "text[]", ["yt00001", "", "日本語 🎬", "a,b\"c{d}"]),
    (text_array, "text[]", [None, "views", None]),
    (text_array, "text[]", []),
    (timestamptz_array, "timestamptz[]", [datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC),
                                          datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
                                          datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC), None]),
    (timestamptz_array, "timestamptz[]", []),
]


@pytest.mark.parametrize(("pack", "array_type", "values"), CASES)
def test_a_packed_array_is_the_array_of_its_values(database: IsolatedDatabase, pack: Callable[[Any], bytes],
                                                   array_type: str, values: Sequence[Any]) -> None:
    with database.connect_owner() as conn:
        row = conn.execute(f"select %b::{array_type} is not distinct from %b::{array_type}, %b::{array_type}".encode(),
                           (pack(values), list(values), pack(values))).fetchone()
    assert row is not None
    assert row[0] is True
    assert row[1] == list(values)


def test_a_naive_timestamp_is_taken_as_utc(database: IsolatedDatabase) -> None:
    with database.connect_owner() as conn:
        row = conn.execute(b"select %b::timestamptz[]", (timestamptz_array([datetime(2026, 11, 30, 12, 0)]),)
                           ).fetchone()
    assert row == ([datetime(2026, 11, 30, 12, 0, tzinfo=UTC)],)


def test_a_counter_out_of_int8_range_is_refused() -> None:
    with pytest.raises(ValueError, match="9223372036854775808 does not fit in an int8"):
        int8_array([1, None, 2**63])
