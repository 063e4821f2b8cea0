"""Workspace budgets: caps on actively tracked videos and on on-demand fetches per UTC day (database access).

An owner sets each cap within the operator's maximum; unset, the operator's default applies (environment:
``WORKSPACE_*``). A command charges its fetches and checks both caps in the transaction of its writes
(``analytics.charge_workspace_budget``, which locks the workspace first): over a cap, ``BudgetExceededError``
rolls the whole command back. Tracking commands count one fetch per video they enqueue; a blogger batch counts
its ``limit`` (the most videos it measures) and needs room for that many tracked videos. The nightly refresh
is not on-demand and counts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from uuid import UUID

import psycopg
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TRACKED_VIDEOS = "tracked_videos"
FETCHES_PER_DAY = "fetches_per_day"


class BudgetSettings(BaseSettings):
    """The operator's limits: the default cap of a workspace whose owner set none, and the most an owner may set."""

    model_config = SettingsConfigDict(extra="ignore")

    default_tracked_videos: int = Field(default=10_000, ge=0, validation_alias="WORKSPACE_TRACKED_VIDEOS_DEFAULT")
    max_tracked_videos: int = Field(default=100_000, ge=0, validation_alias="WORKSPACE_TRACKED_VIDEOS_MAX")
    default_fetches_per_day: int = Field(default=5_000, ge=0, validation_alias="WORKSPACE_FETCHES_PER_DAY_DEFAULT")
    max_fetches_per_day: int = Field(default=50_000, ge=0, validation_alias="WORKSPACE_FETCHES_PER_DAY_MAX")

    @model_validator(mode="after")
    def _defaults_within_maximums(self) -> BudgetSettings:
        if self.default_tracked_videos > self.max_tracked_videos:
            raise ValueError("WORKSPACE_TRACKED_VIDEOS_DEFAULT must not exceed WORKSPACE_TRACKED_VIDEOS_MAX")
        if self.default_fetches_per_day > self.max_fetches_per_day:
            raise ValueError("WORKSPACE_FETCHES_PER_DAY_DEFAULT must not exceed WORKSPACE_FETCHES_PER_DAY_MAX")
        return self

    def params(self) -> tuple[int, int, int, int]:
        return (self.default_tracked_videos, self.max_tracked_videos, self.default_fetches_per_day,
                self.max_fetches_per_day)


@lru_cache(maxsize=1)
def budget_settings() -> BudgetSettings:
    return BudgetSettings()


def next_utc_midnight(now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)


class BudgetExceededError(Exception):
    """A command would go over one of the workspace's caps; nothing of it was written."""

    def __init__(self, cap: str, limit: int, used: int, requested: int, frees_at: datetime | None) -> None:
        self.cap, self.limit, self.used, self.requested, self.frees_at = cap, limit, used, requested, frees_at
        if cap == TRACKED_VIDEOS:
            why = (f"this workspace tracks {used} of its {limit} videos and this command would add {requested}: "
                   "stop tracking videos (DELETE /videos/{id}/tracking) or ask an owner to raise the cap "
                   "(PUT /workspace/budget)")
        else:
            why = (f"this workspace used {used} of its {limit} on-demand fetches today (UTC) and this command needs "
                   f"{requested}: the count starts again at {frees_at:%Y-%m-%dT%H:%M:%SZ}, or ask an owner to "
                   "raise the cap (PUT /workspace/budget)")
        super().__init__(why)
        self.message = why


@dataclass(frozen=True)
class Budget:
    tracked_limit: int
    tracked_used: int
    owner_tracked: int | None  # what the owner set (None: the operator's default)
    fetches_limit: int
    fetches_used: int
    owner_fetches: int | None


def read_budget(conn: psycopg.Connection, workspace_id: UUID, settings: BudgetSettings | None = None) -> Budget:
    settings = settings or budget_settings()
    row = conn.execute("select * from analytics.workspace_budget(%s, %s, %s, %s, %s)",
                       (workspace_id, *settings.params())).fetchone()
    if row is None:
        raise LookupError(f"no workspace {workspace_id}")
    return Budget(*row)


def set_budget(conn: psycopg.Connection, max_tracked_videos: int | None, max_fetches_per_day: int | None) -> None:
    """The caller (an owner: checked by Postgres) sets the caps of the workspace the request names."""
    conn.execute("select analytics.set_workspace_budget(%s, %s)", (max_tracked_videos, max_fetches_per_day))


def charge(conn: psycopg.Connection, workspace_id: UUID, *, fetches: int, added: int = 0, reserve: int = 0,
           settings: BudgetSettings | None = None) -> None:
    """Charges a command's on-demand fetches and checks the caps, in the command's transaction (after its
    writes): raises BudgetExceededError, which rolls the transaction back, when a cap would be exceeded."""
    settings = settings or budget_settings()
    row = conn.execute("select cap, cap_limit, used, requested"
                       "  from analytics.charge_workspace_budget(%s, %s, %s, %s, %s, %s, %s, %s)",
                       (workspace_id, fetches, added, reserve, *settings.params())).fetchone()
    if row is not None:
        cap, limit, used, requested = row
        raise BudgetExceededError(cap, limit, used, requested,
                                  next_utc_midnight() if cap == FETCHES_PER_DAY else None)
