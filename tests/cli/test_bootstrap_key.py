"""The first start's account and admin key are decided on the event store, not the read
models, so a gateway whose read models lag (workers elsewhere) never doubles them."""

from __future__ import annotations

from pathlib import Path

from dialstream.bootstrap import DEFAULT_ACCOUNT_ID, build, ensure_bootstrap_key
from dialstream.settings import Settings
from domain import account
from schemas.settings import AccountOpened, ApiKeyIssued

SECRET = "bootstrap-secret-0123456789"


def _events(settings: Settings) -> list[type]:
    runtime = build(settings)
    try:
        return [type(event) for _, event in runtime.store.read(0, 1000)]
    finally:
        runtime.stop()


def test_a_second_gateway_with_empty_read_models_opens_nothing_twice(tmp_path: Path) -> None:
    first = build(Settings(data_dir=tmp_path, bootstrap_key=SECRET))
    account_id, secret = ensure_bootstrap_key(first)
    first.stop()
    assert (account_id, secret) == (DEFAULT_ACCOUNT_ID, SECRET)

    # Same event store, read models that have seen nothing (a lagging worker elsewhere).
    lagging = Settings(data_dir=tmp_path, bootstrap_key=SECRET, views_url=f"sqlite:///{tmp_path}/empty.sqlite")
    second = build(lagging)
    second.catch_up = lambda timeout=60.0: False  # type: ignore[method-assign]  # workers elsewhere, behind
    assert ensure_bootstrap_key(second) == (DEFAULT_ACCOUNT_ID, None)
    second.stop()

    kinds = _events(lagging)
    assert kinds.count(AccountOpened) == 1
    assert kinds.count(ApiKeyIssued) == 1


def test_a_random_key_is_issued_once_and_a_new_secret_adds_a_key(tmp_path: Path) -> None:
    runtime = build(Settings(data_dir=tmp_path))
    account_id, secret = ensure_bootstrap_key(runtime)
    assert secret is not None
    assert ensure_bootstrap_key(runtime) == (account_id, None)
    runtime.stop()

    runtime = build(Settings(data_dir=tmp_path, bootstrap_key=SECRET))
    assert ensure_bootstrap_key(runtime) == (account_id, SECRET)
    assert ensure_bootstrap_key(runtime) == (account_id, None)
    state = runtime.store.load(account_id, account.project)
    runtime.stop()
    assert state is not None and len(state.api_keys) == 2
