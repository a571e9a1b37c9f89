"""Optimistic concurrency over HTTP: requests racing from threads, each on its own connection.

Exactly one of several writers holding the same If-Match (or racing on the same
aggregate) wins; the others get 412 (their version is stale) or 409 (the store refused
the concurrent append), and the log holds the winner's change only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dialstream.bootstrap import Runtime
from tests.gateway import helpers as h

RACERS = 6


def race(
    client: httpx.Client, requests: list[Callable[[httpx.Client], httpx.Response]]
) -> list[httpx.Response]:
    """Run the requests at the same moment, each from its own thread and connection."""
    barrier = threading.Barrier(len(requests))
    results: list[httpx.Response | BaseException | None] = [None] * len(requests)

    def run(index: int) -> None:
        with httpx.Client(base_url=client.base_url, headers=client.headers, timeout=30.0) as own:
            own.get("/healthz")  # connect before the barrier, so the requests really overlap
            barrier.wait()
            try:
                results[index] = requests[index](own)
            except BaseException as error:
                results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    assert all(isinstance(r, httpx.Response) for r in results)
    return results  # type: ignore[return-value]


def one_winner(responses: list[httpx.Response], ok: int, losers: set[int]) -> httpx.Response:
    statuses = sorted(r.status_code for r in responses)
    winners = [r for r in responses if r.status_code == ok]
    assert len(winners) == 1, statuses
    for response in responses:
        if response is not winners[0]:
            assert response.status_code in losers, (statuses, response.text)
            h.assert_problem(response, response.status_code)
    return winners[0]


@pytest.mark.parametrize(
    ("kind", "make", "body"),
    [
        ("dialing", lambda a, s: h.dialing_profile(s), lambda i: {"description": f"writer {i}"}),
        ("session", lambda a, s: h.session_profile(a), lambda i: {"description": f"writer {i}"}),
        ("list", lambda a, s: h.contact_list(s), lambda i: {"description": f"writer {i}"}),
        ("template", lambda a, s: h.chain(a, s)["template"], lambda i: {"description": f"writer {i}"}),
        ("group", lambda a, s: h.chain(a, s)["group"], lambda i: {"agent_group": f"writer {i}"}),
    ],
)
def test_concurrent_patches_with_the_same_if_match(
    admin: httpx.Client,
    supervisor: httpx.Client,
    runtime: Runtime,
    kind: str,
    make: Callable[[httpx.Client, httpx.Client], dict[str, Any]],
    body: Callable[[int], dict[str, Any]],
) -> None:
    path = {"dialing": h.DIALING, "session": h.SESSION, "list": h.LISTS, "template": h.TEMPLATES}
    path["group"] = h.GROUPS
    made = make(admin, supervisor)
    url = f"{path[kind]}/{made['id']}"
    tag = h.etag(admin, url)
    before = runtime.store.position()
    requests = [(lambda c, i=i: c.patch(url, json=body(i), headers={"If-Match": tag})) for i in range(RACERS)]
    winner = one_winner(race(admin, requests), 200, {409, 412})
    final = h.get(admin, url).json()
    assert final["version"] == int(tag.strip('"')) + 1
    assert final == winner.json()
    assert runtime.store.position() == before + 1


def test_two_concurrent_settings_patches(new_account: Any, runtime: Runtime) -> None:
    client = new_account().admin
    tag = h.etag(client, h.SETTINGS)
    version = int(tag.strip('"'))
    requests = [
        (
            lambda c, rate=rate: c.patch(
                h.SETTINGS, json={"pacing": {"target_abandon_rate": rate}}, headers={"If-Match": tag}
            )
        )
        for rate in (1.0, 2.0)
    ]
    winner = one_winner(race(client, requests), 200, {409, 412})
    final = h.get(client, h.SETTINGS).json()
    assert final["version"] == version + 1
    assert final["settings"]["pacing"] == winner.json()["settings"]["pacing"]


def test_concurrent_starts_of_one_group(
    admin: httpx.Client, supervisor: httpx.Client, runtime: Runtime
) -> None:
    """Actions take no If-Match; the store's version check still lets only one through."""
    group = h.chain(admin, supervisor)["group"]
    url = f"{h.GROUPS}/{group['id']}"
    before = runtime.store.position()
    responses = race(supervisor, [lambda c: c.post(f"{url}/start")] * RACERS)
    one_winner(responses, 200, {409})
    final = h.get(supervisor, url).json()
    assert (final["status"], final["version"]) == ("running", group["version"] + 1)
    assert runtime.store.position() == before + 1


def test_concurrent_deletes_with_the_same_if_match(supervisor: httpx.Client, runtime: Runtime) -> None:
    made = h.contact_list(supervisor)
    url = f"{h.LISTS}/{made['id']}"
    responses = race(supervisor, [lambda c: c.delete(url, headers={"If-Match": '"1"'})] * RACERS)
    one_winner(responses, 204, {404, 409, 412})
    h.assert_problem(supervisor.get(url), 404)


def test_concurrent_creations_with_the_same_name(supervisor: httpx.Client, runtime: Runtime) -> None:
    name = h.unique("Raced")
    before = runtime.store.position()
    responses = race(supervisor, [lambda c: c.post(h.LISTS, json={"name": name})] * RACERS)
    winner = one_winner(responses, 201, {409})
    assert h.names(supervisor, h.LISTS).count(name) == 1
    assert winner.json()["id"] in h.ids(supervisor, h.LISTS)
    assert runtime.store.position() == before + 2  # the name claim and the list


def test_concurrent_template_and_profile_deletion(
    admin: httpx.Client, supervisor: httpx.Client, runtime: Runtime
) -> None:
    """Deleting a profile while a template starts using it: never a template on a deleted profile."""
    for _ in range(3):
        dialing = h.dialing_profile(supervisor)
        session = h.session_profile(admin)
        body = {
            "name": h.unique("Raced"),
            "dialing_profile_id": dialing["id"],
            "session_profile_id": session["id"],
        }
        created, deleted = race(
            supervisor,
            [
                lambda c, body=body: c.post(h.TEMPLATES, json=body),
                lambda c, url=f"{h.DIALING}/{dialing['id']}": c.delete(url),
            ],
        )
        profile = supervisor.get(f"{h.DIALING}/{dialing['id']}")
        if created.status_code == 201:
            assert deleted.status_code == 409, deleted.text
            assert profile.status_code == 200
            assert profile.json()["used_by"] == [created.json()["id"]]
        else:
            assert created.status_code in (404, 409), created.text
            assert deleted.status_code == 204, deleted.text
            assert profile.status_code == 404
            assert body["name"] not in h.names(supervisor, h.TEMPLATES)


def test_concurrent_group_creation_and_list_archive(admin: httpx.Client, supervisor: httpx.Client) -> None:
    """Archiving a list while a group starts using it: never a group on an archived list."""
    base = h.chain(admin, supervisor)
    for _ in range(3):
        contacts = h.contact_list(supervisor)
        body = {
            "name": h.unique("Raced"),
            "template_id": base["template"]["id"],
            "contact_list_ids": [contacts["id"]],
        }
        created, archived = race(
            supervisor,
            [
                lambda c, body=body: c.post(h.GROUPS, json=body),
                lambda c, url=f"{h.LISTS}/{contacts['id']}": c.delete(url),
            ],
        )
        contact_list = supervisor.get(f"{h.LISTS}/{contacts['id']}")
        if created.status_code == 201:
            assert archived.status_code == 409, archived.text
            assert contact_list.json()["campaign_group_ids"] == [created.json()["id"]]
        else:
            assert created.status_code in (404, 409), created.text
            assert archived.status_code == 204, archived.text
            assert contact_list.status_code == 404
            assert body["name"] not in h.names(supervisor, h.GROUPS)
