"""The campaign hierarchy: live rows equal a replay from the log, and nothing applies twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialstream.bootstrap import Runtime, build
from dialstream.cli.log import replay
from dialstream.settings import Settings
from projections.base import ProjectionStore
from projections.hierarchy import CampaignHierarchy, dump_rows
from projections.sql import connect
from tests.scenario import build_campaign_structure


def _runtime(tmp_path: Path) -> Runtime:
    runtime = build(Settings(data_dir=tmp_path))
    runtime.start()
    return runtime


def test_replay_yields_the_same_rows_as_the_live_projection(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    try:
        account_id = runtime.handlers.accounts.open_account("Acme").id
        ids = build_campaign_structure(runtime.handlers, account_id)
        assert runtime.wait(runtime.store.position())
        live = dump_rows(runtime.views)
        assert len(live["hierarchy_groups"]) == 2  # one of three was deleted

        replica = connect(f"sqlite:///{tmp_path / 'replica.sqlite'}")
        rebuilt = ProjectionStore(replica, [CampaignHierarchy()])
        batch = runtime.store.read(after=0, limit=10_000)
        rebuilt.apply("hierarchy", batch)
        assert dump_rows(replica) == live

        replay(runtime, "hierarchy", progress=False)
        assert dump_rows(runtime.views) == live
        assert runtime.projections.position("hierarchy") == runtime.store.position()

        tree = runtime.hierarchy.tree(account_id)
        renewals = next(t for t in tree.templates if t.id == ids["renewals"])
        assert renewals.name == "Renewals 2026"
        statuses = {g.name: g.status for g in renewals.campaign_groups}
        assert statuses == {"Renewals Nov": "running", "Renewals December": "loaded"}
        december = next(g for g in renewals.campaign_groups if g.name == "Renewals December")
        assert [c.name for c in december.contact_lists] == ["December", "VIP"]
        assert [c.name for c in tree.unassigned_contact_lists] == ["Texts"]
    finally:
        runtime.stop()


def test_a_redelivered_batch_changes_nothing(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    try:
        account_id = runtime.handlers.accounts.open_account("Acme").id
        build_campaign_structure(runtime.handlers, account_id)
        assert runtime.wait(runtime.store.position())
        before = dump_rows(runtime.views)
        position = runtime.projections.position("hierarchy")
        again = runtime.store.read(after=0, limit=10_000)
        assert runtime.projections.apply("hierarchy", again) == position
        assert dump_rows(runtime.views) == before
    finally:
        runtime.stop()


def test_a_failed_batch_leaves_rows_and_position_untouched(tmp_path: Path) -> None:
    runtime = build(Settings(data_dir=tmp_path))
    try:
        account_id = runtime.handlers.accounts.open_account("Acme").id
        build_campaign_structure(runtime.handlers, account_id)
        events = runtime.store.read(after=0, limit=10_000)

        class Exploding(CampaignHierarchy):
            def apply(self, cursor, event, position):  # type: ignore[no-untyped-def]
                if position == events[-5][0]:
                    raise RuntimeError("crash in the middle of a batch")
                super().apply(cursor, event, position)

        views = connect(f"sqlite:///{tmp_path / 'crash.sqlite'}")
        crashing = ProjectionStore(views, [Exploding()])
        with pytest.raises(RuntimeError, match="crash in the middle"):
            crashing.apply("hierarchy", events)
        assert crashing.position("hierarchy") == 0
        assert all(rows == [] for rows in dump_rows(views).values())
        healthy = ProjectionStore(views, [CampaignHierarchy()])
        healthy.apply("hierarchy", events)
        assert healthy.position("hierarchy") == events[-1][0]
    finally:
        runtime.stop()


def test_catalogue_and_credentials_replay_equal_live(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    try:
        account_id = runtime.handlers.accounts.open_account("Acme").id
        runtime.handlers.accounts.issue_api_key(account_id, "ops", "supervisor")
        build_campaign_structure(runtime.handlers, account_id)
        assert runtime.wait(runtime.store.position())

        def rows(table: str) -> list[tuple[object, ...]]:
            with runtime.views.transaction() as cursor:
                cursor.execute(f"SELECT * FROM {table}")
                return sorted(tuple(r) for r in cursor.fetchall())

        live = {table: rows(table) for table in ("catalogue", "api_keys")}
        replay(runtime, "catalogue", progress=False)
        replay(runtime, "credentials", progress=False)
        assert {table: rows(table) for table in live} == live
    finally:
        runtime.stop()


@pytest.mark.integration
def test_on_postgresql_replay_equals_live(tmp_path: Path, fresh_postgres_database: str) -> None:
    runtime = build(Settings(data_dir=tmp_path, database_url=fresh_postgres_database))
    runtime.start()
    try:
        assert runtime.settings.views_url == fresh_postgres_database
        account_id = runtime.handlers.accounts.open_account("Acme").id
        build_campaign_structure(runtime.handlers, account_id)
        assert runtime.wait(runtime.store.position())
        live = dump_rows(runtime.views)
        assert len(live["hierarchy_group_lists"]) == 4
        replay(runtime, "hierarchy", progress=False)
        assert dump_rows(runtime.views) == live
    finally:
        runtime.stop()
