"""The mv_refresh Lambda and the `vidstats refresh | verify | status` commands, on a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from vidstats import cli
from vidstats.db import Database, Role

from tests.conftest import IsolatedDatabase, handler_connected_to
from tests.factories import insert_snapshots, make_video
from tests.lambda_context import FakeLambdaContext


@pytest.fixture
def handler_env(monkeypatch: pytest.MonkeyPatch, database: IsolatedDatabase) -> Iterator[None]:
    from mv_refresh import handler

    with handler_connected_to(handler, database, monkeypatch):
        yield


def _history(db: Database) -> None:
    video = make_video(db)
    start = datetime.now(UTC) - timedelta(days=3)
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(video, start + timedelta(days=d), (100 * d, 10 * d, d, 0, None)) for d in range(4)])


@pytest.mark.usefixtures("handler_env")
def test_scheduled_invocation_catches_up_and_reports_figures(db: Database, capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    from mv_refresh.handler import lambda_handler

    _history(db)
    result = lambda_handler({"reason": "schedule"}, FakeLambdaContext())
    assert result["refresh"]["status"] == "caught_up"
    assert result["refresh"]["rows"] == 4
    assert result["lag_seconds"] == 0
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    metric_names = {m["Name"] for doc in emitted for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"RefreshedRows", "RefreshDuration", "ReadModelLag"} <= metric_names
    # What template.yaml's ReadModelLagAlarm matches: namespace vidstats, exactly the dimension service=mv_refresh.
    (lag,) = [doc for doc in emitted if "ReadModelLag" in doc]
    (directive,) = lag["_aws"]["CloudWatchMetrics"]
    assert (directive["Namespace"], directive["Dimensions"], lag["service"]) == ("vidstats", [["service"]],
                                                                                  "mv_refresh")


@pytest.mark.usefixtures("handler_env")
def test_an_invocation_without_time_left_does_no_refresh_work(db: Database) -> None:
    from mv_refresh.handler import lambda_handler

    _history(db)
    result = lambda_handler({}, FakeLambdaContext(timeout_s=5))
    assert (result["refresh"]["status"], result["refresh"]["rows"]) == ("out_of_time", 0)
    assert result["lag_seconds"] > 0  # and the lag says so


@pytest.mark.usefixtures("handler_env")
def test_a_malformed_trigger_is_refused_with_the_field_named() -> None:
    from mv_refresh.handler import lambda_handler

    with pytest.raises(ValidationError, match="max_rows_per_step"):
        lambda_handler({"reason": "schedule", "max_rows_per_step": 0}, FakeLambdaContext())
    with pytest.raises(ValidationError, match="reason"):
        lambda_handler({"reason": "because"}, FakeLambdaContext())


def test_cli_refresh_verify_and_status(database: IsolatedDatabase, db: Database,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    _history(db)
    args = ["--database-url", database.owner_url]
    assert cli.main(["status", *args]) == 0
    assert json.loads(capsys.readouterr().out)["last_refresh_at"] is None  # GET /status's names: never refreshed
    assert cli.main(["refresh", *args]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 4
    assert cli.main(["verify", *args]) == 0
    assert "ok: the read model equals a full recompute" in capsys.readouterr().out

    with database.connect_owner() as conn:
        conn.execute("delete from analytics.mv_video_weekly_increments")
    assert cli.main(["verify", *args]) == 1
    assert "MISMATCH" in capsys.readouterr().err


@pytest.mark.parametrize(("configured", "expected"), [(None, "0"), ("120000", "2min")])
def test_the_cli_runs_without_a_statement_timeout_unless_one_is_configured(
        database: IsolatedDatabase, monkeypatch: pytest.MonkeyPatch, configured: str | None, expected: str) -> None:
    import argparse

    if configured is None:
        monkeypatch.delenv("DB_STATEMENT_TIMEOUT_MS", raising=False)
    else:
        monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", configured)
    command_db = cli._database(argparse.Namespace(database_url=database.owner_url))
    try:
        with command_db.transaction(Role.REFRESH) as conn:  # what `vidstats verify` / `refresh` run in
            row = conn.execute("select current_setting('statement_timeout')").fetchone()
        assert row == (expected,)
    finally:
        command_db.close()


def test_an_invalid_cli_statement_timeout_is_a_one_line_error(
        database: IsolatedDatabase, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "soon")
    assert cli.main(["verify", "--database-url", database.owner_url]) != 0
    assert "invalid setting DB_STATEMENT_TIMEOUT_MS" in capsys.readouterr().err
