"""A server stopped and started again on the same data dir answers exactly as before, and
so does one whose read models were deleted and rebuilt from the event log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.gateway import helpers as h
from tests.gateway.conftest import Server, serving

BOOTSTRAP = "dsk_restart-test-bootstrap-secret"


def client(server: Server, secret: str) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {secret}"}, timeout=30)


def everything(admin: httpx.Client, made: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every representation and ETag the API gives for the objects made."""
    paths = [h.SETTINGS, h.DIALING, h.SESSION, h.TEMPLATES, h.GROUPS, h.LISTS, h.API_KEYS, h.HIERARCHY]
    resources = {"dialing": h.DIALING, "session": h.SESSION, "template": h.TEMPLATES, "group": h.GROUPS}
    resources["list"] = h.LISTS
    paths += [f"{resources[kind]}/{obj['id']}" for kind, obj in made.items()]
    seen = {}
    for path in paths:
        response = h.get(admin, path)
        seen[path] = (response.json(), response.headers.get("ETag"))
    return seen


def test_restart_and_rebuild_answer_as_before(tmp_path: Path) -> None:
    with serving(tmp_path, bootstrap_key=BOOTSTRAP) as first:
        assert first.admin_secret == BOOTSTRAP
        with client(first, BOOTSTRAP) as admin:
            made = h.chain(admin)
            group = f"{h.GROUPS}/{made['group']['id']}"
            assert admin.post(f"{group}/start").status_code == 200
            assert admin.post(f"{group}/pause").status_code == 200
            archived = h.contact_list(admin)
            assert admin.delete(f"{h.LISTS}/{archived['id']}").status_code == 204
            viewer = admin.post(h.API_KEYS, json={"name": "viewer", "role": "viewer"}).json()
            revoked = admin.post(h.API_KEYS, json={"name": "gone", "role": "viewer"}).json()
            assert admin.delete(f"{h.API_KEYS}/{revoked['id']}").status_code == 204
            before = everything(admin, made)
            position = first.runtime.store.position()

    with serving(tmp_path, bootstrap_key=BOOTSTRAP) as second:
        assert second.admin_secret is None, "the bootstrap key is issued once"
        assert second.account_id == first.account_id
        assert second.runtime.store.position() == position
        with client(second, BOOTSTRAP) as admin:
            assert everything(admin, made) == before
            assert [k["name"] for k in h.get(admin, h.API_KEYS).json()].count("bootstrap admin") == 1
            h.assert_problem(admin.get(f"{h.LISTS}/{archived['id']}"), 404)
        with client(second, viewer["secret"]) as reader:
            h.get(reader, h.HIERARCHY)
        with client(second, revoked["secret"]) as gone:
            h.assert_problem(gone.get(h.LISTS), 401)

    views = sorted(tmp_path.glob("views.sqlite*"))
    assert tmp_path / "views.sqlite" in views
    for stale in views:
        stale.unlink()
    with serving(tmp_path, bootstrap_key=BOOTSTRAP) as third:
        assert third.admin_secret is None
        with client(third, BOOTSTRAP) as admin:
            assert everything(admin, made) == before
        with client(third, revoked["secret"]) as gone:
            h.assert_problem(gone.get(h.LISTS), 401)
