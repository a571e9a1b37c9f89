"""The account's own key pairs in the service layer: made once, on first need, even when two
first requests race (in one process or in two), and kept only sealed.

Keys are real (paramiko) but 1024 bits: what is checked here is how often and where they are
made and kept, not their strength (the gateway's tests download real RSA 4096 ones).
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Sequence

import pytest

from dialstream.handlers import Handlers
from dialstream.handlers.accounts import SystemKeyPair
from dialstream.secrets import SecretBox
from dialstream.store import EventStore
from processors.files.system_keys import SystemKeys
from schemas.base import Event
from schemas.settings import SystemSshKeyGenerated


class CountedKeys(SystemKeys):
    """Real key pairs, counted; ``while_making`` runs in the middle of making one."""

    def __init__(self) -> None:
        super().__init__(bits=1024)
        self.made = 0
        self.while_making = lambda: None

    def ssh_key_pair(self, comment: str) -> SystemKeyPair:
        self.made += 1
        pair = super().ssh_key_pair(comment)
        self.while_making()
        return pair


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(base64.urlsafe_b64encode(os.urandom(32)).decode())


def _ssh_events(store: EventStore) -> list[SystemSshKeyGenerated]:
    return [e for _, e in store.read(0, limit=10_000) if isinstance(e, SystemSshKeyGenerated)]


def test_the_key_pair_is_made_on_first_need_once_and_kept_sealed(store: EventStore, box: SecretBox) -> None:
    keys = CountedKeys()
    handlers = Handlers(store, secrets=box, keys=keys)
    account_id = handlers.accounts.open_account("Acme").id
    assert handlers.accounts.ssh_public_key(account_id) is None

    first = handlers.accounts.ssh_key(account_id)
    again = handlers.accounts.ssh_key(account_id)

    assert keys.made == 1
    assert again == first and first.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert first.private_key not in repr(first)
    public = handlers.accounts.ssh_public_key(account_id)
    assert public is not None and (public.public_key, public.fingerprint) == (
        first.public_key,
        first.fingerprint,
    )
    (event,) = _ssh_events(store)
    assert box.open(event.sealed_private_key) == first.private_key
    body = first.private_key.splitlines()[5]  # a line of the key itself
    assert all(body not in entry.state.decode() for entry in store.read_log(0) if entry.state is not None)


def test_two_first_requests_in_one_process_make_one_key_pair(store: EventStore, box: SecretBox) -> None:
    keys = CountedKeys()
    handlers = Handlers(store, secrets=box, keys=keys)
    account_id = handlers.accounts.open_account("Acme").id
    pairs: list[SystemKeyPair] = []
    threads = [
        threading.Thread(target=lambda: pairs.append(handlers.accounts.ssh_key(account_id))) for _ in range(4)
    ]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert keys.made == 1
    assert len(pairs) == 4 and len(set(pairs)) == 1
    assert len(_ssh_events(store)) == 1


def test_a_key_pair_stored_while_another_process_makes_one_is_the_one_both_use(
    store: EventStore, box: SecretBox
) -> None:
    keys, rival_keys = CountedKeys(), CountedKeys()
    handlers = Handlers(store, secrets=box, keys=keys)
    rival = Handlers(store, secrets=box, keys=rival_keys)  # another process on the same store
    account_id = handlers.accounts.open_account("Acme").id
    won: list[SystemKeyPair] = []
    keys.while_making = lambda: won.append(rival.accounts.ssh_key(account_id))  # stored first

    lost = handlers.accounts.ssh_key(account_id)

    assert (keys.made, rival_keys.made) == (1, 1)  # both made one; one is kept
    assert lost == won[0]
    (event,) = _ssh_events(store)
    assert event.public_key == lost.public_key


def test_a_key_pair_stored_between_deciding_and_storing_wins_and_the_loser_uses_it(
    store: EventStore, box: SecretBox, monkeypatch: pytest.MonkeyPatch
) -> None:
    handlers = Handlers(store, secrets=box, keys=CountedKeys())
    rival = Handlers(store, secrets=box, keys=CountedKeys())
    account_id = handlers.accounts.open_account("Acme").id
    append = store.append
    tries: list[Sequence[Event]] = []
    won: list[SystemKeyPair] = []

    def race(events: Sequence[Event]) -> int:
        tries.append(events)
        if len(tries) == 1:  # the rival stores its pair after this decision, before this append
            monkeypatch.setattr(store, "append", append)
            won.append(rival.accounts.ssh_key(account_id))
            monkeypatch.setattr(store, "append", race)
        return append(events)

    monkeypatch.setattr(store, "append", race)
    lost = handlers.accounts.ssh_key(account_id)

    assert [len(events) for events in tries] == [1, 0]  # a conflict, then nothing left to record
    assert lost == won[0]
    assert len(_ssh_events(store)) == 1


def test_without_a_secret_box_no_key_pair_is_made(store: EventStore) -> None:
    keys = CountedKeys()
    handlers = Handlers(store, keys=keys)
    account_id = handlers.accounts.open_account("Acme").id

    with pytest.raises(RuntimeError, match="secret box"):
        handlers.accounts.ssh_key(account_id)

    assert keys.made == 0 and not _ssh_events(store)
