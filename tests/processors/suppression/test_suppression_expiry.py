"""The suppression expiry sweep on a real embedded runtime whose bus is never started: the
tests move the read models with ``catch_up``, so a read model behind the store is a step of
the test, not a race."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest

from dialstream.bootstrap import Runtime, build
from dialstream.clock import utc_now
from dialstream.settings import Settings
from domain.suppression_list import CreateSuppressionList, EntryInput
from processors.suppression.expiry import SuppressionExpirySweeper
from schemas.suppression import SuppressionEntriesExpired, SuppressionEntryKey

LATER = utc_now() + timedelta(days=2)  # entries kept "today" have expired by then


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    runtime = build(Settings(data_dir=tmp_path))
    try:
        yield runtime
    finally:
        runtime.stop()


@pytest.fixture
def today_only(runtime: Runtime) -> tuple[UUID, UUID]:
    """An account and a suppression list kept today, with three entries."""
    account = runtime.handlers.accounts.open_account("Acme").id
    made = runtime.handlers.suppression.create_list(
        account, CreateSuppressionList(name="today", required=True, retention_days=0)
    )
    runtime.handlers.suppression.add_entries(
        account, made.id, [EntryInput(kind="client_id", value=f"C{n}") for n in range(3)]
    )
    assert runtime.catch_up()
    return account, made.id


def sweeper(runtime: Runtime, wait: object = None) -> SuppressionExpirySweeper:
    def catching_up(position: int, timeout: float) -> bool:
        return runtime.catch_up()

    return SuppressionExpirySweeper(
        runtime.suppression_lists,
        lambda account_id, list_id, keys: (
            runtime.handlers.suppression.expire_entries(account_id, list_id, keys).position
        ),
        wait if callable(wait) else catching_up,
        head=runtime.store.position,
    )


def expired_keys(runtime: Runtime) -> list[str]:
    return sorted(
        key.value
        for _, event in runtime.store.read(0, limit=10_000)
        if isinstance(event, SuppressionEntriesExpired)
        for key in event.entries
    )


def test_due_entries_are_expired_once(runtime: Runtime, today_only: tuple[UUID, UUID]) -> None:
    assert sweeper(runtime).sweep(utc_now()) == 0, "not before the account's midnight"
    assert sweeper(runtime).sweep(LATER) == 3
    assert sweeper(runtime).sweep(LATER) == 0
    assert expired_keys(runtime) == ["C0", "C1", "C2"]


def test_entries_another_sweep_expired_are_not_expired_again_from_a_read_model_behind(
    runtime: Runtime, today_only: tuple[UUID, UUID]
) -> None:
    account, list_id = today_only
    # Another process expired two entries, then died; the read model has not applied that yet.
    runtime.handlers.suppression.expire_entries(
        account, list_id, [SuppressionEntryKey(kind="client_id", value=v) for v in ("C0", "C1")]
    )
    assert len(runtime.suppression_lists.expired(int(LATER.timestamp()), limit=10)) == 3, "behind"

    assert sweeper(runtime).sweep(LATER) == 1, "waited for the read model first"
    assert expired_keys(runtime) == ["C0", "C1", "C2"]


def test_a_read_model_that_does_not_catch_up_leaves_the_sweep_for_later(
    runtime: Runtime, today_only: tuple[UUID, UUID]
) -> None:
    account, list_id = today_only
    runtime.handlers.suppression.expire_entries(
        account, list_id, [SuppressionEntryKey(kind="client_id", value="C0")]
    )
    waits: list[int] = []

    def never(position: int, timeout: float) -> bool:
        waits.append(position)
        return False

    assert sweeper(runtime, never).sweep(LATER) == 0
    assert waits and set(waits) == {runtime.store.position()}
    assert expired_keys(runtime) == ["C0"]


def test_a_stopping_process_does_not_wait_for_the_read_model(
    runtime: Runtime, today_only: tuple[UUID, UUID]
) -> None:
    calls: list[int] = []

    def behind(position: int, timeout: float) -> bool:
        calls.append(position)
        return False

    assert sweeper(runtime, behind).sweep(LATER, stopping=lambda: True) == 0
    assert calls == []
