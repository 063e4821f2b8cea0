"""`vidstats dev` end to end: real handlers behind a local HTTP gateway, moto SQS and the event source mapping.

Time is simulated for the "a day later" check: the demo provider's clock is moved back one day for the first
fetch, and the snapshot that fetch wrote is moved to that instant with the owner connection before any refresh
reflects it (the read model takes rows by id, so this is what a snapshot taken yesterday looks like to it).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from vidstats.local.demo_data import DEMO_CAMPAIGN_NAME, DEMO_FLASH_SALE_NAME, move_new_snapshots
from vidstats.local.demo_provider import DEMO_CLOCK
from vidstats.local.stack import LocalStack
from vidstats.local.template import local_template
from vidstats.workspaces import DEFAULT_WORKSPACE_ID

from tests.local_stack.conftest import Api, StackFactory, wait_until

TIKTOK_URL = "https://www.tiktok.com/@someone/video/7301234567890123456"


def _snapshots(stack: LocalStack, video_id: UUID) -> list[tuple[int, int]]:
    rows = stack.owner_database().connection().execute(
        "select id, views from analytics.video_statistics where video_id = %s order by created_at, id",
        (video_id,)).fetchall()
    return [(int(r[0]), int(r[1])) for r in rows]


def _last_snapshot_id(stack: LocalStack) -> int:
    row = stack.owner_database().connection().execute(
        "select coalesce(max(id), 0) from analytics.video_statistics").fetchone()
    assert row is not None
    return int(row[0])


def _row(page: dict[str, Any], video_id: UUID) -> dict[str, Any]:
    items: list[dict[str, Any]] = page["items"]
    return next(item for item in items if item["id"] == str(video_id))


def test_a_tracked_tiktok_url_reaches_the_dashboard_through_local_sqs_and_grows_a_day_later(
        external_stack: LocalStack, api: Api) -> None:
    stack = external_stack
    mark = _last_snapshot_id(stack)
    with DEMO_CLOCK.shifted(timedelta(days=-1)):
        accepted = api.post("/videos", {"urls": [TIKTOK_URL]}, status=202)
        video_id = UUID(accepted["videos"][0]["id"])
        first = wait_until(lambda: _snapshots(stack, video_id), what="the first snapshot")
    yesterday = datetime.now(UTC) - timedelta(days=1)
    assert move_new_snapshots(stack.owner_database(), mark, [video_id], yesterday) == 1

    refreshed = stack.run_job("mv_refresh")
    assert refreshed["refresh"]["status"] == "caught_up"
    row = _row(api.get("/videos", period="1d"), video_id)
    assert row["external_video_id"] == "7301234567890123456"
    assert row["totals"]["views"] == first[0][1] > 0
    assert str(row["caption"]).startswith("[demo]")

    enqueued = stack.run_job("nightly_refresh")  # the nightly schedule's handler, on demand
    assert enqueued["videos_enqueued"] == 1
    both = wait_until(lambda: len(s := _snapshots(stack, video_id)) == 2 and s, what="the second snapshot")
    stack.run_job("mv_refresh")
    row = _row(api.get("/videos", period="1d"), video_id)
    grown = both[1][1] - both[0][1]
    assert grown > 0
    assert row["totals"]["views"] == both[1][1]
    assert row["increments"]["views"] == grown
    assert stack.sqs is not None
    assert stack.sqs.depth("FetchDeadLetterQueue") == {"visible": 0, "in_flight": 0}


def test_a_poison_message_ends_in_the_dlq_after_the_configured_receives_while_the_rest_flow(
        start_stack: StackFactory, database: object) -> None:
    from tests.conftest import IsolatedDatabase

    assert isinstance(database, IsolatedDatabase)
    stack = start_stack(database_url=database.owner_url, parameters={"FetchMaxReceiveCount": 3},
                        queue_overrides={"FetchQueue": {"visibility_timeout_s": 1}})
    assert stack.sqs is not None
    assert stack.poller is not None
    sqs = stack.sqs.client()
    queue, dlq = stack.sqs.queues["FetchQueue"], stack.sqs.queues["FetchDeadLetterQueue"]
    sqs.send_message(QueueUrl=queue.url, MessageBody='{"version": 1, "kind": "no_such_kind"}')

    api = Api(stack)
    try:
        accepted = api.post("/videos", {"urls": [TIKTOK_URL]}, status=202)
    finally:
        api.client.close()
    video_id = UUID(accepted["videos"][0]["id"])
    wait_until(lambda: _snapshots(stack, video_id), what="the good message's snapshot")

    def dead_letters() -> list[dict[str, object]]:
        got = sqs.receive_message(QueueUrl=dlq.url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                  MessageSystemAttributeNames=["All"]).get("Messages") or []
        return list(got)

    dead = wait_until(dead_letters, timeout_s=20, what="the poison message in the DLQ")
    assert [json.loads(str(m["Body"]))["kind"] for m in dead] == ["no_such_kind"]
    assert stack.poller.stats.failed == 3  # delivered and failed exactly maxReceiveCount times
    assert stack.sqs.depth("FetchQueue") == {"visible": 0, "in_flight": 0}
    assert len(_snapshots(stack, video_id)) == 1


def test_the_local_queues_carry_template_yaml_settings(start_stack: StackFactory, database: object) -> None:
    from tests.conftest import IsolatedDatabase

    assert isinstance(database, IsolatedDatabase)
    stack = start_stack(database_url=database.owner_url)
    template = local_template()
    assert stack.sqs is not None
    queue = stack.sqs.queues["FetchQueue"]
    attributes = stack.sqs.client().get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
    assert int(attributes["VisibilityTimeout"]) == template.queues["FetchQueue"].visibility_timeout_s == 360
    redrive = json.loads(attributes["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == int(template.parameters["FetchMaxReceiveCount"])
    assert redrive["deadLetterTargetArn"] == stack.sqs.queues["FetchDeadLetterQueue"].arn
    assert stack.poller is not None
    assert stack.poller.event.batch_size == 10
    assert stack.poller.event.report_batch_item_failures
    assert stack.scheduler is not None
    expressions = {job.name: job.expression for job in stack.scheduler.jobs.values()}
    assert expressions["mv_refresh"] == template.parameters["RefreshSchedule"]
    assert expressions["nightly_refresh"] == template.parameters["NightlyRefreshSchedule"]


def test_the_gateway_turns_requests_into_http_api_events_for_the_real_handlers(external_stack: LocalStack) -> None:
    assert external_stack.gateway is not None
    base = external_stack.gateway.url
    startup = "\n".join(external_stack.describe())  # what `vidstats dev` prints: what runs where
    assert f"{base}/docs" in startup
    # A line to paste; the README's curl examples use both.
    assert f"export TOKEN={external_stack.dev_token} WORKSPACE={DEFAULT_WORKSPACE_ID}\n" in startup
    assert f"--data-dir {external_stack.config.data_dir}" in startup  # the CLI's way to this (not default) stack
    assert str(external_stack.exports_dir) in startup
    assert "DEMO provider" in startup
    with httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/health").json() == {"status": "ok"}
        docs = client.get("/docs")
        assert docs.status_code == 200
        assert "swagger" in docs.text.lower()
        assert client.get("/openapi.json").json()["info"]["title"] == "vidstats dashboard API"
        unauthorized = client.get("/videos")
        assert unauthorized.status_code == 401
        assert unauthorized.headers["www-authenticate"].startswith("Bearer")
        bad_token = client.get("/videos", headers={"authorization": "Bearer not-a-token"})
        assert bad_token.status_code == 401
        invalid = client.get("/videos", params={"limit": "0"},
                             headers={"authorization": f"Bearer {external_stack.dev_token}",
                                      "x-workspace-id": str(DEFAULT_WORKSPACE_ID)})
        assert invalid.status_code == 422
        if "PageViewsIncrementsFunction" in external_stack.functions:  # its own API, same local port
            malformed = client.post("/page-views", content=b"{not json", headers={"content-type": "application/json"})
            assert malformed.status_code == 400  # the increments handler's answer (the dashboard has no such route)


def test_a_second_start_on_the_same_data_folder_keeps_the_data_and_the_demo_history(
        start_stack: StackFactory, tmp_path: Path) -> None:
    first = start_stack(demo=True)
    api = Api(first)
    try:
        campaigns = api.get("/campaigns")["items"]
        assert sorted(c["name"] for c in campaigns) == sorted([DEMO_CAMPAIGN_NAME, DEMO_FLASH_SALE_NAME])
        videos = api.get("/videos", limit=200)["items"]
        assert len(videos) == 12
        tracked = api.get("/videos", limit=200, health="tracking")["items"]
        assert len(tracked) == 10  # one gone, one failing
        for video in tracked:  # 30 days of history: every day of the default 30-day series grew
            points = api.get(f"/videos/{video['id']}/increments")["points"]
            assert len(points) == 30
            assert all(p["views"] > 0 and p["snapshots"] == 1 for p in points), points
    finally:
        api.client.close()
    first.stop()
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists()  # the server stopped; the folder stays

    second = start_stack(demo=True)
    assert second.demo_summary is not None
    assert second.demo_summary.startswith("already loaded")
    api = Api(second)
    try:
        assert [c["id"] for c in api.get("/campaigns")["items"]] == [c["id"] for c in campaigns]
        assert {v["id"] for v in api.get("/videos", limit=200)["items"]} == {v["id"] for v in videos}
    finally:
        api.client.close()


@pytest.mark.parametrize("argv", [["migrate"], ["dev"], ["track"], ["refresh"], ["verify"], ["export"], ["status"]])
def test_every_cli_command_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from vidstats.cli import main

    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    assert "usage: vidstats " + argv[0] in capsys.readouterr().out
