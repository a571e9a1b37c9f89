"""A real Dialstream server for the gateway tests: SQLite on a temporary data dir, uvicorn
on 127.0.0.1, one per test session; tests talk HTTP to it with ``httpx``.

Account A (the bootstrap account) has an admin, a supervisor and a viewer client, and its
own default dialing and session profiles, so profiles the tests create in it are never the
default. Account B ("Other") has an admin client. ``new_account`` opens a pristine account
for tests that need one (first profile, settings, encryption).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from dialstream.bootstrap import (
    DIALER,
    LIST_AUTOMATION,
    SUPPRESSION_EXPIRY,
    Runtime,
    build,
    ensure_bootstrap_key,
)
from dialstream.settings import Settings
from tests.gateway import gpg, helpers
from tests.gateway.serve import loopback_socket, served


@dataclass
class Server:
    runtime: Runtime
    base_url: str
    account_id: UUID
    admin_secret: str | None  # None when the data dir already had its bootstrap key


@dataclass
class Account:
    id: UUID
    admin: httpx.Client


@contextmanager
def serving(data_dir: Path, bootstrap_key: str | None = None) -> Iterator[Server]:
    """Dialstream on ``data_dir`` (SQLite), served by uvicorn on a free 127.0.0.1 port."""
    sock, port = loopback_socket()
    runtime = build(Settings(data_dir=data_dir, host="127.0.0.1", port=port, bootstrap_key=bootstrap_key))
    # The tests play the dialer themselves (the handlers it calls). A dialer of the server's
    # own would dial the groups they start beside them, and append events while a later test
    # checks that a refused request appended none.
    runtime.services.pop(DIALER, None)
    # Likewise the list automation worker: a job a test asks to run would run (and store its
    # run) at a moment of the worker's choosing, in the middle of a later test.
    runtime.services.pop(LIST_AUTOMATION, None)
    # And the suppression expiry sweep: it sweeps by the wall clock, so an entry a test adds
    # under a frozen clock of 2025 is already due, and a sweep between the test's add and its
    # lookup would expire it.
    runtime.services.pop(SUPPRESSION_EXPIRY, None)
    try:
        account_id, secret = ensure_bootstrap_key(runtime)
        runtime.start()
        with served(runtime, sock) as base_url:
            yield Server(runtime, base_url, account_id, secret)
    finally:
        runtime.stop()
        sock.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("dialstream-gateway")) as running:
        assert running.admin_secret is not None, "a new data dir must get a bootstrap key"
        yield running


@pytest.fixture(scope="session")
def runtime(server: Server) -> Runtime:
    return server.runtime


@pytest.fixture(scope="session")
def base_url(server: Server) -> str:
    return server.base_url


@pytest.fixture(scope="session")
def client_for(server: Server) -> Iterator[Callable[[str | None], httpx.Client]]:
    """A factory of HTTP clients, each sending the given API key (or none)."""
    clients: list[httpx.Client] = []

    def make(secret: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {secret}"} if secret is not None else {}
        client = httpx.Client(base_url=server.base_url, headers=headers, timeout=30.0)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(scope="session")
def account_a(server: Server, client_for: Callable[[str | None], httpx.Client]) -> Account:
    assert server.admin_secret is not None
    admin = client_for(server.admin_secret)
    # Defaults first, so every profile a test creates in account A is not the default.
    helpers.create(admin, "/api/v1/dialing-profiles", {"name": "A default dialing"})
    helpers.create(
        admin,
        "/api/v1/session-profiles",
        {"name": "A default session", "settings": {"agent_group": "Default agents"}},
    )
    return Account(server.account_id, admin)


@pytest.fixture(scope="session")
def admin(account_a: Account) -> httpx.Client:
    """Admin of account A."""
    return account_a.admin


def _issued_client(
    admin: httpx.Client, client_for: Callable[[str | None], httpx.Client], role: str
) -> httpx.Client:
    response = admin.post("/api/v1/api-keys", json={"name": f"test {role}", "role": role})
    assert response.status_code == 201, response.text
    return client_for(response.json()["secret"])


@pytest.fixture(scope="session")
def supervisor(admin: httpx.Client, client_for: Callable[[str | None], httpx.Client]) -> httpx.Client:
    """Supervisor of account A."""
    return _issued_client(admin, client_for, "supervisor")


@pytest.fixture(scope="session")
def viewer(admin: httpx.Client, client_for: Callable[[str | None], httpx.Client]) -> httpx.Client:
    """Viewer of account A."""
    return _issued_client(admin, client_for, "viewer")


def _open_account(runtime: Runtime, client_for: Callable[[str | None], httpx.Client], name: str) -> Account:
    opened = runtime.handlers.accounts.open_account(name)
    issued = runtime.handlers.accounts.issue_api_key(opened.id, f"{name} admin", "admin")
    assert runtime.wait(issued.position), "the credentials projection did not catch up"
    return Account(opened.id, client_for(issued.secret))


@pytest.fixture(scope="session")
def account_b(
    runtime: Runtime, client_for: Callable[[str | None], httpx.Client], account_a: Account
) -> Account:
    return _open_account(runtime, client_for, "Other")


@pytest.fixture(scope="session")
def other_admin(account_b: Account) -> httpx.Client:
    """Admin of account B."""
    return account_b.admin


@pytest.fixture
def new_account(runtime: Runtime, client_for: Callable[[str | None], httpx.Client]) -> Callable[[], Account]:
    """Opens a pristine account (no profiles, default settings) with an admin client."""

    def make() -> Account:
        return _open_account(runtime, client_for, helpers.unique("Account"))

    return make


@pytest.fixture(scope="session")
def gnupg_home() -> Iterator[str]:
    with gpg.home() as path:
        yield path


@pytest.fixture(scope="session")
def rsa_key(gnupg_home: str) -> str:
    """An ASCII-armored rsa3072 OpenPGP public key that never expires."""
    return gpg.generate(gnupg_home, "Test <t@example.com>", "rsa3072")
