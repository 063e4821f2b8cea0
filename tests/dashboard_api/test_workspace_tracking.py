"""Each workspace sees its own tracking of a video it shares with another: its own start, its own stop, in every
answer of the API (lists, the video, campaigns' and creators' video lists, the tracking commands)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from vidstats.db import Database

from tests.dashboard_api.test_authorization_matrix import persona_api
from tests.two_workspaces import TwoWorkspaces, two_workspaces


@pytest.fixture
def data(api_env: None, sqs: Any, db: Database) -> TwoWorkspaces:
    return two_workspaces(db)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def row_of(rows: list[dict[str, Any]], video: object) -> dict[str, Any]:
    (row,) = [r for r in rows if r["id"] == str(video)]
    return row


@pytest.fixture
def b_stopped(data: TwoWorkspaces) -> TwoWorkspaces:
    """B stops tracking the shared video; A still tracks it."""
    reply = persona_api("owner B", data).call("DELETE", f"/videos/{data.shared_video}/tracking")
    assert reply.status == 200, reply
    assert reply.body["tracking"]["state"] == "stopped"
    assert at(reply.body["tracking"]["started_at"]) == data.shared_added[data.b.workspace]
    return data


def test_the_video_answers_each_workspace_with_its_own_start_and_stop(b_stopped: TwoWorkspaces) -> None:
    data = b_stopped
    a = persona_api("owner A", data).ok(f"/videos/{data.shared_video}")
    b = persona_api("owner B", data).ok(f"/videos/{data.shared_video}")
    assert (a["tracking"]["state"], at(a["tracking"]["started_at"]), a["tracking"]["stopped_at"]) == \
        ("active", data.shared_added[data.a.workspace], None)
    assert a["health"]["state"] == "tracking"
    assert (b["tracking"]["state"], at(b["tracking"]["started_at"])) == \
        ("stopped", data.shared_added[data.b.workspace])
    assert b["tracking"]["stopped_at"] is not None
    assert b["health"]["state"] == "stopped"


def test_the_list_rows_and_the_tracking_state_filter_are_each_workspaces_own(b_stopped: TwoWorkspaces) -> None:
    data = b_stopped
    a, b = persona_api("owner A", data), persona_api("owner B", data)
    a_row = row_of(a.walk_videos(), data.shared_video)
    b_row = row_of(b.walk_videos(), data.shared_video)
    assert (a_row["tracking_state"], at(a_row["tracking_started_at"])) == \
        ("active", data.shared_added[data.a.workspace])
    assert (b_row["tracking_state"], at(b_row["tracking_started_at"])) == \
        ("stopped", data.shared_added[data.b.workspace])
    assert str(data.shared_video) in {r["id"] for r in a.walk_videos(tracking_state="active")}
    assert str(data.shared_video) not in {r["id"] for r in a.walk_videos(tracking_state="stopped")}
    assert {r["id"] for r in b.walk_videos(tracking_state="stopped")} == {str(data.shared_video)}
    assert str(data.shared_video) not in {r["id"] for r in b.walk_videos(tracking_state="active")}
    assert {r["id"] for r in b.walk_videos(health="stopped")} == {str(data.shared_video)}
    assert str(data.shared_video) not in {r["id"] for r in a.walk_videos(health="stopped")}


def test_a_campaigns_and_a_creators_video_lists_show_the_workspaces_own_tracking(b_stopped: TwoWorkspaces) -> None:
    data = b_stopped
    for persona, side, state in (("owner A", data.a, "active"), ("owner B", data.b, "stopped")):
        api = persona_api(persona, data)
        row = row_of(api.walk_videos(campaign_id=str(side.campaign)), data.shared_video)
        assert (row["tracking_state"], at(row["tracking_started_at"])) == (state, data.shared_added[side.workspace])
        own = row_of(api.ok(f"/bloggers/{side.blogger}")["videos"], side.video)
        assert own["tracking_state"] == "active"


def test_recent_sorts_by_the_workspaces_own_start(data: TwoWorkspaces) -> None:
    for persona, side in (("owner A", data.a), ("owner B", data.b)):
        api = persona_api(persona, data)
        rows = api.walk_videos(sort="recent", limit=1)
        assert [r["id"] for r in rows] == [str(side.video), str(data.shared_video)]
        assert at(rows[1]["tracking_started_at"]) == data.shared_added[side.workspace]


def test_tracking_a_url_again_answers_the_workspaces_own_start(b_stopped: TwoWorkspaces, db: Database) -> None:
    data = b_stopped
    url = db.connection().execute("select url from analytics.videos where id = %s",
                                  (data.shared_video,)).fetchone()
    assert url is not None
    for persona, side in (("owner A", data.a), ("owner B", data.b)):
        reply = persona_api(persona, data).call("POST", "/videos", body={"urls": [url[0]]})
        assert reply.status == 202, reply
        (video,) = reply.body["videos"]
        assert (video["id"], video["tracking_state"], at(video["tracking_started_at"])) == \
            (str(data.shared_video), "active", data.shared_added[side.workspace])
    # B tracks it again: active for B from its first start.
    again = persona_api("owner B", data).ok(f"/videos/{data.shared_video}")["tracking"]
    assert (again["state"], at(again["started_at"]), again["stopped_at"]) == \
        ("active", data.shared_added[data.b.workspace], None)


def test_status_counts_a_failing_video_only_for_the_workspaces_still_tracking_it(
        b_stopped: TwoWorkspaces, db: Database) -> None:
    data = b_stopped
    conn = db.connection()
    with conn.transaction():
        conn.execute("update analytics.videos set failure_days = 3 where id = %s", (data.shared_video,))
    assert persona_api("owner A", data).ok("/status")["failing_videos"] == 1
    assert persona_api("owner B", data).ok("/status")["failing_videos"] == 0



def test_each_workspaces_sheets_and_csv_show_its_own_start_and_stop(b_stopped: TwoWorkspaces, db: Database) -> None:
    from vidstats.export.tables import ExportTarget, snapshot, table_for

    data = b_stopped
    url = str(persona_api("owner A", data).ok(f"/videos/{data.shared_video}")["url"])

    def shared_row(target: ExportTarget) -> tuple[Any, Any]:
        with snapshot(db) as conn:  # as the export reads: every workspace's targets in one transaction
            table = table_for(conn, target, datetime.now(UTC))
            try:
                (row,) = [r for r in table.rows() if r[1] == url]
            finally:
                table.close()
        return row[4], row[5]  # "Tracking since (UTC)", "Fetch health"

    spreadsheet = "1AbCdEfGhIjKlMnOpQrStUvWxYz"
    for side, health in ((data.a, "tracking"), (data.b, "stopped")):
        for campaign in (None, side.campaign):
            target = ExportTarget(spreadsheet_id=spreadsheet, campaign_id=campaign, workspace_id=side.workspace)
            assert shared_row(target) == (data.shared_added[side.workspace], health)

    # The campaign's CSV download is the export's worksheet: B's own start and stop there too.
    csv = persona_api("owner B", data).call("GET", f"/campaigns/{data.b.campaign}/export.csv").body
    (line,) = [line for line in csv.splitlines() if url in line]
    assert f"{data.shared_added[data.b.workspace]:%Y-%m-%d %H:%M:%S}" in line
    assert ",stopped," in line
