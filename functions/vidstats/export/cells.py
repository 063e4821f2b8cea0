"""One typed cell, two encodings: a Sheets API value (numbers as numbers, dates as serial numbers) and CSV text.

Both encodings come from the same typed value, so a CSV file and a worksheet of one table hold the same data.
Sheets stores dates and times as "serial numbers" (days since 1899-12-30) shown through a number format;
writing them as numbers with ``valueInputOption=RAW`` keeps every caption literal text (no formula injection,
no locale-dependent parsing) while dates still sort, filter and compute as dates.

A CSV file has no such distinction: a spreadsheet program opening it runs any cell that looks like a formula.
Text cells starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return are therefore written with a leading
single quote (OWASP's CSV-injection rule); numbers are written as numbers, so ``-5`` stays a negative number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

Cell = str | int | float | bool | Decimal | datetime | date | UUID | None
SheetValue = str | int | float | bool

SHEETS_EPOCH = datetime(1899, 12, 30)  # day 0 of Sheets' (and Lotus 1-2-3's) serial numbers
SECONDS_PER_DAY = 86_400
DATETIME_PATTERN = "yyyy-mm-dd hh:mm:ss"
DATE_PATTERN = "yyyy-mm-dd"
INTEGER_PATTERN = "#,##0"
CSV_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class Kind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DATETIME = "datetime"  # shown in UTC
    DATE = "date"


@dataclass(frozen=True)
class Column:
    title: str
    kind: Kind
    width_px: int = 110


def utc_seconds(value: datetime) -> datetime:
    """The instant in UTC, naive, to the whole second (what both the sheet and the CSV show)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0)


def serial_from_datetime(value: datetime) -> float:
    delta = utc_seconds(value) - SHEETS_EPOCH
    return delta.days + delta.seconds / SECONDS_PER_DAY


def serial_from_date(value: date) -> int:
    return (value - SHEETS_EPOCH.date()).days


def datetime_from_serial(serial: float) -> datetime:
    """The inverse of ``serial_from_datetime`` (to the second)."""
    days = int(serial // 1)
    seconds = round((serial - days) * SECONDS_PER_DAY)
    return SHEETS_EPOCH + timedelta(days=days, seconds=seconds)


def _number(value: Decimal) -> int | float:
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def to_sheet_value(value: Cell) -> SheetValue:
    """The JSON value for a ``values.batchUpdate`` with RAW input. None clears the cell (empty string)."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, datetime):
        return serial_from_datetime(value)
    if isinstance(value, date):
        return serial_from_date(value)
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to a sheet: {value!r}")


CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """Text a spreadsheet program would evaluate (``=HYPERLINK(...)``, ``+1``, ``@SUM``) kept as text."""
    return "'" + text if text.startswith(CSV_FORMULA_PREFIXES) else text


def to_csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal):
        return str(_number(value))
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return neutralise_formula(value)
    if isinstance(value, datetime):
        return utc_seconds(value).strftime(CSV_DATETIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to CSV: {value!r}")


def number_format(kind: Kind) -> dict[str, str] | None:
    """The Sheets ``NumberFormat`` a column of this kind is shown with."""
    if kind is Kind.INTEGER:
        return {"type": "NUMBER", "pattern": INTEGER_PATTERN}
    if kind is Kind.DATETIME:
        return {"type": "DATE_TIME", "pattern": DATETIME_PATTERN}
    if kind is Kind.DATE:
        return {"type": "DATE", "pattern": DATE_PATTERN}
    return None


def kind_of(value: Cell) -> Kind:
    if isinstance(value, datetime):
        return Kind.DATETIME
    if isinstance(value, date):
        return Kind.DATE
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return Kind.INTEGER
    return Kind.TEXT


def pad(row: Sequence[Any], width: int) -> list[Any]:
    return [*row, *([None] * (width - len(row)))]
