"""What dialing and session profiles share over HTTP, as one contract each module binds.

A subclass says where the resource lives, which client writes it in account A (a
supervisor for dialing profiles, an admin for session profiles), and a valid and a
changed settings document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import httpx
import pytest

from dialstream.bootstrap import Runtime
from tests.gateway import helpers as h
from tests.gateway.conftest import Account


class ProfileContract:
    path: ClassVar[str]
    settings: ClassVar[dict[str, Any]]
    changed_settings: ClassVar[dict[str, Any]]

    @pytest.fixture
    def writer(self) -> httpx.Client:
        raise NotImplementedError

    def make(self, client: httpx.Client, **fields: Any) -> dict[str, Any]:
        return h.create(client, self.path, {"name": h.unique("Profile"), **fields})

    def url(self, profile: dict[str, Any]) -> str:
        return f"{self.path}/{profile['id']}"

    # Create, read, list ------------------------------------------------------------------

    def test_create_get_and_list(self, writer: httpx.Client, viewer: httpx.Client) -> None:
        made = self.make(writer, description="for the morning shift", settings=self.settings)
        assert made["version"] == 1
        assert made["description"] == "for the morning shift"
        assert made["is_default"] is False
        for key, value in self.settings.items():
            assert made["settings"][key] == value
        got = h.get(viewer, self.url(made))
        assert got.json() == made
        assert got.headers["ETag"] == '"1"'
        listed = {p["id"]: p for p in h.get(viewer, self.path).json()}
        assert made["id"] in listed
        assert listed[made["id"]]["name"] == made["name"]
        assert listed[made["id"]]["is_default"] is False

    def test_create_fills_defaults(self, writer: httpx.Client) -> None:
        made = self.make(writer)
        assert made["description"] == ""
        assert isinstance(made["settings"], dict) and made["settings"]

    def test_name_is_cleaned(self, writer: httpx.Client) -> None:
        name = h.unique("Spaced")
        made = h.create(writer, self.path, {"name": f"  {name.replace(' ', '   ')}  "})
        assert made["name"] == name

    def test_get_unknown_is_404(self, viewer: httpx.Client) -> None:
        h.assert_problem(viewer.get(f"{self.path}/00000000-0000-4000-8000-000000000000"), 404)

    # Change --------------------------------------------------------------------------------

    def test_patch_with_if_match(self, writer: httpx.Client) -> None:
        made = self.make(writer, settings=self.settings)
        tag = h.etag(writer, self.url(made))
        new_name = h.unique("Renamed")
        response = writer.patch(
            self.url(made),
            json={"name": new_name, "settings": self.changed_settings},
            headers={"If-Match": tag},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["name"] == new_name
        assert body["version"] == 2
        assert response.headers["ETag"] == '"2"'
        for key, value in self.changed_settings.items():
            assert body["settings"][key] == value
        assert body["description"] == made["description"]
        assert h.get(writer, self.url(made)).json() == body

    def test_patch_with_stale_if_match_is_412(self, writer: httpx.Client, runtime: Runtime) -> None:
        made = self.make(writer)
        writer.patch(self.url(made), json={"description": "first"}, headers={"If-Match": '"1"'})
        before = runtime.store.position()
        response = writer.patch(self.url(made), json={"description": "second"}, headers={"If-Match": '"1"'})
        h.assert_problem(response, 412, "If-Match")
        assert runtime.store.position() == before
        assert h.get(writer, self.url(made)).json()["description"] == "first"

    def test_patch_without_changes_keeps_the_version(self, writer: httpx.Client) -> None:
        made = self.make(writer)
        response = writer.patch(self.url(made), json={"name": made["name"]})
        assert response.status_code == 200, response.text
        assert response.json()["version"] == made["version"]

    def test_rename_to_a_taken_name_is_409(self, writer: httpx.Client, runtime: Runtime) -> None:
        first = self.make(writer)
        second = self.make(writer)
        before = runtime.store.position()
        taken = f"  {first['name'].upper()}  "
        h.assert_problem(writer.patch(self.url(second), json={"name": taken}), 409, "name")
        assert runtime.store.position() == before
        assert h.get(writer, self.url(second)).json()["name"] == second["name"]

    def test_duplicate_name_is_409_ignoring_case_and_spaces(
        self, writer: httpx.Client, runtime: Runtime
    ) -> None:
        first = self.make(writer)
        before = runtime.store.position()
        variant = "  " + "   ".join(first["name"].swapcase().split()) + " "
        h.assert_problem(writer.post(self.path, json={"name": variant}), 409, "name")
        assert runtime.store.position() == before
        assert h.names(writer, self.path).count(first["name"]) == 1

    def test_if_match_star_and_weak_etags_are_accepted(self, writer: httpx.Client) -> None:
        made = self.make(writer)
        response = writer.patch(self.url(made), json={"description": "any"}, headers={"If-Match": "*"})
        assert response.status_code == 200, response.text
        response = writer.patch(self.url(made), json={"description": "weak"}, headers={"If-Match": 'W/"2"'})
        assert response.status_code == 200, response.text
        assert response.json()["version"] == 3

    def test_renaming_frees_the_old_name_and_may_change_case(self, writer: httpx.Client) -> None:
        made = self.make(writer)
        upper = writer.patch(self.url(made), json={"name": made["name"].upper()})
        assert upper.status_code == 200, upper.text
        assert upper.json()["name"] == made["name"].upper()
        renamed = writer.patch(self.url(made), json={"name": h.unique("Moved")})
        assert renamed.status_code == 200, renamed.text
        again = h.create(writer, self.path, {"name": made["name"]})
        assert again["id"] != made["id"]
        h.assert_problem(writer.patch(self.url(made), json={"name": made["name"]}), 409, "name")

    # Delete ----------------------------------------------------------------------------------

    def test_delete_then_404(self, writer: httpx.Client) -> None:
        made = self.make(writer)
        response = writer.delete(self.url(made), headers={"If-Match": '"1"'})
        assert response.status_code == 204, response.text
        assert response.content == b""
        h.assert_problem(writer.get(self.url(made)), 404, "id")
        assert made["id"] not in h.ids(writer, self.path)
        h.assert_problem(writer.delete(self.url(made)), 404)
        h.assert_problem(writer.patch(self.url(made), json={"description": "x"}), 404)
        h.assert_problem(writer.post(f"{self.url(made)}/make-default"), 404)

    def test_deleted_name_can_be_used_again(self, writer: httpx.Client) -> None:
        made = self.make(writer)
        assert writer.delete(self.url(made)).status_code == 204
        again = h.create(writer, self.path, {"name": made["name"]})
        assert again["id"] != made["id"]

    def test_delete_with_stale_if_match_is_412(self, writer: httpx.Client) -> None:
        made = self.make(writer)
        writer.patch(self.url(made), json={"description": "changed"})
        h.assert_problem(writer.delete(self.url(made), headers={"If-Match": '"1"'}), 412, "If-Match")
        h.get(writer, self.url(made))

    def test_profile_used_by_a_template_cannot_be_deleted(
        self, admin: httpx.Client, writer: httpx.Client, runtime: Runtime
    ) -> None:
        made = self.make(writer)
        dialing, session = self.pair(admin, made)
        template = h.template(admin, dialing, session)
        assert h.get(writer, self.url(made)).json()["used_by"] == [template["id"]]
        before = runtime.store.position()
        h.assert_problem(writer.delete(self.url(made)), 409, "id")
        assert runtime.store.position() == before
        h.get(writer, self.url(made))
        assert admin.delete(f"{h.TEMPLATES}/{template['id']}").status_code == 204
        assert h.get(writer, self.url(made)).json()["used_by"] == []
        assert writer.delete(self.url(made)).status_code == 204

    def pair(self, admin: httpx.Client, made: dict[str, Any]) -> tuple[str, str]:
        """(dialing profile id, session profile id) for a template using ``made``."""
        raise NotImplementedError

    # Defaults ------------------------------------------------------------------------------

    def test_first_profile_is_default_and_cannot_be_deleted(
        self, new_account: Callable[[], Account], runtime: Runtime
    ) -> None:
        client = new_account().admin
        assert h.get(client, self.path).json() == []
        first = self.make(client)
        assert first["is_default"] is True
        second = self.make(client)
        assert second["is_default"] is False
        before = runtime.store.position()
        h.assert_problem(client.delete(self.url(first)), 422, "id")
        assert runtime.store.position() == before
        assert h.get(client, self.url(first)).json()["is_default"] is True

        response = client.post(f"{self.url(second)}/make-default")
        assert response.status_code == 200, response.text
        assert response.json()["is_default"] is True
        assert h.get(client, self.url(first)).json()["is_default"] is False
        defaults = {p["id"]: p["is_default"] for p in h.get(client, self.path).json()}
        assert defaults == {first["id"]: False, second["id"]: True}
        settings = h.get(client, h.SETTINGS).json()
        assert second["id"] in (
            settings["default_dialing_profile_id"],
            settings["default_session_profile_id"],
        )
        # Making the default the default again changes nothing.
        position = runtime.store.position()
        assert client.post(f"{self.url(second)}/make-default").status_code == 200
        assert runtime.store.position() == position

        assert client.delete(self.url(first)).status_code == 204
        h.assert_problem(client.delete(self.url(second)), 422, "id")

    def test_make_default_of_unknown_profile_is_404(self, admin: httpx.Client) -> None:
        unknown = f"{self.path}/00000000-0000-4000-8000-000000000000/make-default"
        h.assert_problem(admin.post(unknown), 404)

    # Bad input -----------------------------------------------------------------------------

    def test_unknown_settings_field_is_422(self, writer: httpx.Client, runtime: Runtime) -> None:
        before = runtime.store.position()
        response = writer.post(self.path, json={"name": h.unique("Bad"), "settings": {"no_such_option": 1}})
        h.assert_problem(response, 422, "settings.no_such_option")
        assert runtime.store.position() == before

    def test_empty_name_is_422(self, writer: httpx.Client) -> None:
        h.assert_problem(writer.post(self.path, json={"name": ""}), 422, "name")
        h.assert_problem(writer.post(self.path, json={"name": "   "}), 422, "name")
        h.assert_problem(writer.post(self.path, json={}), 422, "name")
