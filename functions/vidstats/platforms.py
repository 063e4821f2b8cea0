"""The platforms vidstats tracks (kept apart from ``models`` so URL parsing and providers share it)."""

from __future__ import annotations

from enum import StrEnum


class Platform(StrEnum):
    TIKTOK = "tiktok"
    INSTAGRAM = "instagram"
    YOUTUBE = "youtube"
