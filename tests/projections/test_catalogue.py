"""The catalogue's queries: an object read again while unchanged is the one decoded before."""

from __future__ import annotations

from pathlib import Path

from msgspec import structs

from dialstream.bootstrap import build
from dialstream.settings import Settings
from domain.account import Account, UpdateSettings
from projections.catalogue import ACCOUNT


def test_an_unchanged_object_is_decoded_once_and_a_changed_one_again(tmp_path: Path) -> None:
    runtime = build(Settings(data_dir=tmp_path))
    runtime.start()
    try:
        account_id = runtime.handlers.accounts.open_account("Acme").id
        assert runtime.wait(runtime.store.position())
        first = runtime.catalogue.get(account_id, ACCOUNT, account_id)
        assert runtime.catalogue.get(account_id, ACCOUNT, account_id) is first
        assert isinstance(first, Account)

        general = structs.replace(first.settings.general, account_name="Acme Two")
        runtime.handlers.accounts.update_settings(account_id, UpdateSettings(general=general))
        assert runtime.wait(runtime.store.position())
        changed = runtime.catalogue.get(account_id, ACCOUNT, account_id)
        assert changed is not first
        assert isinstance(changed, Account)
        assert changed.settings.general.account_name == "Acme Two"
        assert first.settings.general.account_name == "Acme"
    finally:
        runtime.stop()
