"""Least privilege, enforced by Postgres: each function's role can do exactly its job, the Data API's
roles can do nothing in `analytics`, and snapshots are append-only for everyone but the owner."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors, sql
from vidstats.db import Database, Role

from tests.conftest import IsolatedDatabase
from tests.factories import make_video, member

INGEST, REFRESH, READER = "vidstats_ingest", "vidstats_refresh", "vidstats_reader"
PAGE_VIEWS, EXPORT, SHARE = "vidstats_page_views", "vidstats_export", "vidstats_share"

# Every grant on a table or sequence in `analytics` to someone other than its owner. A new relation or a
# new grant must be added here on purpose.
EXPECTED_RELATION_GRANTS = {
    # DELETE: folding a creator's handle-keyed row into its row once an answer names the creator's id.
    ("bloggers", INGEST): {"SELECT", "INSERT", "UPDATE", "DELETE"},
    ("bloggers", READER): {"SELECT"},
    ("bloggers", REFRESH): {"SELECT"},
    ("videos", INGEST): {"SELECT", "INSERT", "UPDATE"},
    # The reader stops tracking only through stop_workspace_tracking() (security definer).
    ("videos", READER): {"SELECT"},
    ("videos", REFRESH): {"SELECT"},
    ("campaigns", INGEST): {"SELECT"},
    ("campaigns", READER): {"SELECT", "INSERT", "UPDATE"},
    ("campaigns", REFRESH): {"SELECT"},
    ("campaign_videos", INGEST): {"SELECT", "INSERT"},
    ("campaign_videos", READER): {"SELECT", "INSERT", "UPDATE", "DELETE"},
    ("campaign_videos", REFRESH): {"SELECT"},
    ("video_statistics", INGEST): {"INSERT"},
    ("video_statistics", REFRESH): {"SELECT"},
    ("video_statistics_id_seq", INGEST): {"USAGE"},
    # Ingestion bookkeeping (queue processor idempotency, debounced mv_refresh signal).
    ("ingest_claims", INGEST): {"SELECT", "INSERT", "UPDATE", "DELETE"},
    ("ingest_commits", INGEST): {"SELECT", "INSERT", "DELETE"},
    ("ingest_signals", INGEST): {"SELECT", "UPDATE"},
    # Blogger batch outcomes: requested (pending) and read by the dashboard API, written by the queue processor.
    ("blogger_batches", INGEST): {"SELECT", "INSERT", "UPDATE"},
    ("blogger_batches", READER): {"SELECT", "INSERT"},
    # The read model: maintained only through refresh_materialized_views() (security definer).
    ("mv_video_daily_increments", READER): {"SELECT"},
    ("mv_video_daily_increments", REFRESH): {"SELECT"},
    ("mv_video_weekly_increments", READER): {"SELECT"},
    ("mv_video_weekly_increments", REFRESH): {"SELECT"},
    ("video_latest_statistics", READER): {"SELECT"},
    ("video_latest_statistics", REFRESH): {"SELECT"},
    # The growth sort's sums: read by the dashboard; the refresh writes them only through its function.
    ("video_growth", READER): {"SELECT"},
    # Campaign growth's boundaries and the totals per campaign and per creator: one definition each, read by the
    # dashboard and the export; written only by triggers and the refresh (security definer).
    ("campaign_video_bounds", READER): {"SELECT"},
    ("campaign_video_bounds", REFRESH): {"SELECT"},
    ("campaign_totals", READER): {"SELECT"},
    # A campaign's daily growth kept by the refresh: read by the refresh and the export; the dashboard's roles read it
    # only through campaign_days_kept() / campaign_kept_days() (security definer, their access checked).
    **{(relation, role): {"SELECT"} for relation in ("campaign_daily_growth", "campaign_daily_growth_state")
       for role in (REFRESH, EXPORT)},
    ("blogger_totals", READER): {"SELECT"},
    ("videos_with_statistics_fast", READER): {"SELECT"},
    ("videos_with_statistics_fast", REFRESH): {"SELECT"},
    ("read_model_state", READER): {"SELECT"},
    ("read_model_state", REFRESH): {"SELECT"},
    ("video_daily_increments_reference", REFRESH): {"SELECT"},
    ("video_weekly_increments_reference", REFRESH): {"SELECT"},
    # Page views (seed 003): pages and page_views have no grants at all (written only through add_page_views(),
    # a security definer); the report and its state are read by the Wolf and the analytics service.
    ("page_views_report", READER): {"SELECT"},
    ("page_views_report", REFRESH): {"SELECT"},
    ("page_views_report_state", READER): {"SELECT"},
    ("page_views_report_state", REFRESH): {"SELECT"},
    # Workspaces: membership is managed by operators (the owner role); the dashboard reads its own.
    ("workspaces", READER): {"SELECT"},
    ("workspace_members", READER): {"SELECT"},
    ("workspace_videos", READER): {"SELECT"},
    ("workspace_videos", INGEST): {"SELECT", "INSERT", "UPDATE"},
    ("workspace_videos", REFRESH): {"SELECT"},
    # Owners' settings (budgets, usage) have no grants: only security definer functions touch them. The export reads
    # the workspaces' Sheets targets; the dashboard manages them through functions.
    ("workspace_export_targets", EXPORT): {"SELECT"},
    # The export (Sheets, CSV): what the dashboard reads, of every workspace (its own RLS policies).
    **{(relation, EXPORT): {"SELECT"} for relation in (
        "workspaces", "workspace_videos", "videos", "bloggers", "campaigns", "campaign_videos",
        "campaign_video_bounds", "mv_video_daily_increments", "mv_video_weekly_increments",
        "video_latest_statistics", "videos_with_statistics_fast", "video_growth", "read_model_state",
        "campaign_totals", "blogger_totals", "workspace_video_tracking")},
    # Share links: made and listed by the dashboard (revoking updates only revoked_at, a column grant).
    ("campaign_share_links", READER): {"SELECT", "INSERT"},
    ("workspace_video_tracking", READER): {"SELECT"},
    # A share link's reader: what a campaign's pages read (its own RLS policies: that campaign's rows only).
    **{(relation, SHARE): {"SELECT"} for relation in (
        "campaigns", "campaign_videos", "campaign_video_bounds", "videos", "bloggers", "workspace_videos",
        "video_latest_statistics", "video_growth", "mv_video_daily_increments", "mv_video_weekly_increments",
        "read_model_state", "campaign_totals", "workspace_video_tracking")},
}
EXPECTED_FUNCTION_GRANTS = {
    ("create_video_statistics_partitions", REFRESH): {"EXECUTE"},
    ("refresh_materialized_views", REFRESH): {"EXECUTE"},
    ("video_daily_increments_upto", REFRESH): {"EXECUTE"},
    ("video_weekly_increments_upto", REFRESH): {"EXECUTE"},
    ("verify_read_model", REFRESH): {"EXECUTE"},
    # verify --sample: the same checks for a few videos, through the per-video index.
    ("verify_read_model_sample", REFRESH): {"EXECUTE"},
    ("video_daily_increments_of", REFRESH): {"EXECUTE"},
    ("sample_videos", REFRESH): {"EXECUTE"},
    ("verify_campaign_daily_growth", REFRESH): {"EXECUTE"},
    # Snapshot retention (mv_refresh, `vidstats retention run`): the entry points only (security definer).
    ("snapshot_retention_candidates", REFRESH): {"EXECUTE"},
    ("plan_snapshot_compaction", REFRESH): {"EXECUTE"},
    ("build_snapshot_compaction", REFRESH): {"EXECUTE"},
    ("swap_snapshot_compaction", REFRESH): {"EXECUTE"},
    ("refresh_status", REFRESH): {"EXECUTE"},
    ("refresh_status", READER): {"EXECUTE"},
    # Every figure users see, defined once (security invoker: the reader's own grants apply).
    ("campaign_video_days", READER): {"EXECUTE"},
    ("campaign_video_growth", READER): {"EXECUTE"},
    ("campaign_series", READER): {"EXECUTE"},
    ("campaign_figures", READER): {"EXECUTE"},
    # The same figures with the caller's access checked once (security definer): the two roles whose checks it makes.
    ("viewer_campaign_figures", READER): {"EXECUTE"},
    ("viewer_campaign_figures", SHARE): {"EXECUTE"},
    **{(function, role): {"EXECUTE"} for function in ("campaign_days_kept", "campaign_kept_days")
       for role in (READER, SHARE, EXPORT)},
    # A video's raw snapshots, for its workspace's members only (security definer: the reader has no grant on them).
    ("video_snapshots", READER): {"EXECUTE"},
    # A video's last fetch (its latest snapshot), for its workspace's members only (security definer, as above).
    ("video_last_fetched_at", READER): {"EXECUTE"},
    ("video_period_growth", READER): {"EXECUTE"},
    # The list's rows with each video's access checked once (security definer): the reader and the share role.
    ("video_list_rows", READER): {"EXECUTE"},
    ("videos_in_state", READER): {"EXECUTE"},
    ("videos_matching", READER): {"EXECUTE"},
    ("video_series", READER): {"EXECUTE"},
    ("series_periods", READER): {"EXECUTE"},
    ("add_page_views", PAGE_VIEWS): {"EXECUTE"},
    ("refresh_page_views_report", REFRESH): {"EXECUTE"},
    ("verify_page_views_report", REFRESH): {"EXECUTE"},
    ("page_views_report_status", REFRESH): {"EXECUTE"},
    ("page_views_report_status", READER): {"EXECUTE"},
    # The caller's identity, read by the row-level security policies and the command checks.
    **{(function, READER): {"EXECUTE"} for function in (
        "current_user_id", "current_workspace_role", "current_user_has_workspace", "current_workspace_id",
        "editable_workspace_id", "require_workspace_editor", "stop_workspace_tracking")},
    ("require_workspace_editor", INGEST): {"EXECUTE"},
    # Owners manage members and budgets, owners and editors the Sheets targets: each function checks the caller.
    **{(function, READER): {"EXECUTE"} for function in (
        "require_workspace_owner", "workspace_member_list", "add_workspace_member", "set_workspace_member_role",
        "remove_workspace_member", "accept_workspace_invitations", "workspace_budget", "set_workspace_budget",
        "charge_workspace_budget", "workspace_export_target_list", "add_workspace_export_target",
        "remove_workspace_export_target")},
    # A tracking command charges its workspace's budget in the transaction of its writes.
    ("charge_workspace_budget", INGEST): {"EXECUTE"},
    **{(function, EXPORT): {"EXECUTE"} for function in (
        "campaign_video_days", "campaign_video_growth", "campaign_series", "campaign_figures",
        "video_period_growth", "video_series", "series_periods", "refresh_status", "viewing_workspace_id")},
    ("viewing_workspace_id", READER): {"EXECUTE"},
    **{(function, SHARE): {"EXECUTE"} for function in (
        "campaign_video_days", "campaign_video_growth", "campaign_series", "campaign_figures",
        "video_period_growth", "video_list_rows", "videos_in_state", "videos_matching", "series_periods",
        "refresh_status", "current_share_campaign_id", "current_share_workspace_id", "viewing_workspace_id")},
}


def _grants(conn: psycopg.Connection, catalog: str) -> dict[tuple[str, str], set[str]]:
    name, acl, owner = {"relations": ("relname", "relacl", "relowner"),
                        "functions": ("proname", "proacl", "proowner")}[catalog]
    table, ns = {"relations": ("pg_class", "relnamespace"), "functions": ("pg_proc", "pronamespace")}[catalog]
    rows = conn.execute(sql.SQL(
        "select o.{name}::text, case when a.grantee = 0 then 'PUBLIC' else a.grantee::regrole::text end,"
        "       a.privilege_type"
        "  from {table} o join pg_namespace n on n.oid = o.{ns}, aclexplode(o.{acl}) a"
        " where n.nspname = 'analytics' and a.grantee <> o.{owner}"
    ).format(name=sql.Identifier(name), table=sql.Identifier(table), ns=sql.Identifier(ns),
             acl=sql.Identifier(acl), owner=sql.Identifier(owner))).fetchall()
    grants: dict[tuple[str, str], set[str]] = {}
    for obj, grantee, privilege in rows:
        grants.setdefault((obj, grantee), set()).add(privilege)
    return grants


def test_relation_grants_are_exactly_the_expected_ones(database: IsolatedDatabase) -> None:
    with database.connect_owner() as conn:
        assert _grants(conn, "relations") == EXPECTED_RELATION_GRANTS


def test_function_grants_are_exactly_the_expected_ones(database: IsolatedDatabase) -> None:
    with database.connect_owner() as conn:
        assert _grants(conn, "functions") == EXPECTED_FUNCTION_GRANTS


@pytest.mark.parametrize("api_role", ["anon", "authenticated", "service_role"])
def test_data_api_roles_cannot_touch_anything_in_analytics(database: IsolatedDatabase, api_role: str) -> None:
    with database.connect_owner() as conn:
        assert conn.execute("select has_schema_privilege(%s, 'analytics', 'USAGE')", (api_role,)).fetchone() == (
            False,)
        objects = conn.execute(
            "select c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'analytics' and c.relkind in ('r', 'p', 'v', 'm', 'S')"
        ).fetchall()
        assert objects
        for (obj,) in objects:
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE"):
                if obj.endswith("_seq"):
                    continue
                allowed = conn.execute("select has_table_privilege(%s, %s, %s)", (api_role, obj, privilege))
                assert allowed.fetchone() == (False,), (obj, privilege)
        functions = conn.execute(
            "select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
            " where n.nspname = 'analytics'").fetchall()
        for (function,) in functions:
            allowed = conn.execute("select has_function_privilege(%s, %s, 'EXECUTE')", (api_role, function))
            assert allowed.fetchone() == (False,), function

        # And for real, through SET ROLE as PostgREST does:
        with pytest.raises(errors.InsufficientPrivilege, match="permission denied for schema analytics"), \
                conn.transaction():
            conn.execute(sql.SQL("set local role {}").format(sql.Identifier(api_role)))
            conn.execute("select * from analytics.videos")
        with pytest.raises(errors.InsufficientPrivilege), conn.transaction():
            conn.execute(sql.SQL("set local role {}").format(sql.Identifier(api_role)))
            conn.execute("select analytics.create_video_statistics_partitions()")


def _insert_video(db: Database) -> str:
    return make_video(db, external_video_id="7301")


def _insert_snapshot(conn: psycopg.Connection, video_id: str) -> None:
    conn.execute(
        "insert into analytics.video_statistics (video_id, external_video_id, views, likes)"
        " values (%s, '7301', 100, 5)", (video_id,))


def test_functions_run_under_their_role_via_set_local_role(db: Database) -> None:
    for role in Role:
        with db.transaction(role) as conn:
            assert conn.execute("select current_user").fetchone() == (role.value,)
        # SET LOCAL ends with the transaction: nothing leaks into the next one.
        with db.connection().transaction():
            assert db.connection().execute("select current_user").fetchone() == ("supabase_postgres",)


def test_ingest_appends_snapshots_but_cannot_read_change_or_delete_them(db: Database) -> None:
    video_id = _insert_video(db)
    with db.transaction(Role.INGEST) as conn:
        _insert_snapshot(conn, video_id)
    for statement in ("select * from analytics.video_statistics",
                      "update analytics.video_statistics set views = 0",
                      "delete from analytics.video_statistics",
                      "truncate analytics.video_statistics"):
        with pytest.raises(errors.InsufficientPrivilege), db.transaction(Role.INGEST) as conn:
            conn.execute(statement.encode())


def test_refresh_reads_snapshots_but_cannot_write_them(db: Database) -> None:
    video_id = _insert_video(db)
    with db.transaction(Role.INGEST) as conn:
        _insert_snapshot(conn, video_id)
    with db.transaction(Role.REFRESH) as conn:
        assert conn.execute("select count(*) from analytics.video_statistics").fetchone() == (1,)
        conn.execute("select analytics.create_video_statistics_partitions()")
    for statement in ("update analytics.video_statistics set views = 0",
                      "delete from analytics.video_statistics",
                      "insert into analytics.videos (platform, external_video_id, url) values ('youtube', 'x', 'u')"):
        with pytest.raises(errors.InsufficientPrivilege), db.transaction(Role.REFRESH) as conn:
            conn.execute(statement.encode())
    with pytest.raises(errors.InsufficientPrivilege), db.transaction(Role.REFRESH) as conn:
        _insert_snapshot(conn, video_id)


def test_reader_edits_tracking_metadata_but_never_touches_snapshots(db: Database) -> None:
    video_id = _insert_video(db)
    with member(db).transaction(Role.READER) as conn:
        conn.execute("insert into analytics.campaigns (name, starts_at) values ('Spring', now())")
        conn.execute("select analytics.stop_workspace_tracking(%s)", (video_id,))
        assert conn.execute("select tracking_state from analytics.videos where id = %s",
                            (video_id,)).fetchone() == ("stopped",)
    with pytest.raises(errors.InsufficientPrivilege), db.transaction(Role.READER) as conn:
        _insert_snapshot(conn, video_id)
    with pytest.raises(errors.InsufficientPrivilege), db.transaction(Role.READER) as conn:
        conn.execute("select count(*) from analytics.video_statistics")


def test_only_the_owner_may_update_a_snapshot(db: Database, database: IsolatedDatabase) -> None:
    video_id = _insert_video(db)
    with db.transaction(Role.INGEST) as conn:
        _insert_snapshot(conn, video_id)
    for role in Role:
        with pytest.raises(errors.InsufficientPrivilege), db.transaction(role) as conn:
            conn.execute("update analytics.video_statistics set views = views + 1")
    with database.connect_owner() as conn:  # the owner (migrations, maintenance) still can
        assert conn.execute("update analytics.video_statistics set views = views + 1").rowcount == 1
