"""Bulk video inserts: ``.venv/bin/python -m bench.video_inserts [--videos N]``.

A new video gets its read-model rows (video_latest_statistics, video_growth) from statement-level triggers over
the inserted rows. Baseline, same run and database: the row-level triggers they replaced (one insert per video
per trigger), recreated for the measurement.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import psycopg

from bench.support import bench_database, print_table

ROW_LEVEL_TRIGGERS = """
create function analytics.bench_row_latest() returns trigger language plpgsql as $$
begin
    insert into analytics.video_latest_statistics (video_id, external_video_id) values (new.id, new.external_video_id);
    return null;
end $$;
create function analytics.bench_row_growth() returns trigger language plpgsql as $$
begin
    insert into analytics.video_growth (video_id, period_days)
    select new.id, p.days from unnest(array[1, 7, 30]::smallint[]) p(days);
    return null;
end $$;
drop trigger videos_add_latest_statistics_rows on analytics.videos;
drop trigger videos_add_growth_rows on analytics.videos;
create trigger bench_row_latest after insert on analytics.videos for each row
    execute function analytics.bench_row_latest();
create trigger bench_row_growth after insert on analytics.videos for each row
    execute function analytics.bench_row_growth();
"""


def insert_videos(url: str, count: int, prefix: str) -> float:
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        conn.execute("insert into analytics.videos (platform, external_video_id, url)"
                     " select 'tiktok', %s || g, 'https://example.invalid/' || g from generate_series(1, %s) g",
                     (prefix, count))
        conn.commit()
        return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-video-inserts-") as work, bench_database(Path(work)) as url:
        statement_s = insert_videos(url, args.videos, "s")
        with psycopg.connect(url) as conn:
            conn.execute(ROW_LEVEL_TRIGGERS.encode())
        row_s = insert_videos(url, args.videos, "r")
    print_table([
        ("videos in one INSERT", "statement-level triggers s", "row-level triggers s (baseline)", "speed-up"),
        (f"{args.videos:,}", f"{statement_s:.2f}", f"{row_s:.2f}", f"{row_s / statement_s:.1f}x"),
    ])


if __name__ == "__main__":
    main()
