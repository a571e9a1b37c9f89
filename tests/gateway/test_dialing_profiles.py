"""/api/v1/dialing-profiles over HTTP: the shared profile contract, written by a supervisor,
plus the dialing settings' own limits."""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
import pytest

from dialstream.bootstrap import Runtime
from tests.gateway import helpers as h
from tests.gateway.profile_contract import ProfileContract

PACING = {
    "lines_per_agent": 2.5,
    "optimization_method": "wait_time",
    "optimization_goal": 12.0,
    "ring_timeout_seconds": 30,
    "answering_machine_detection": False,
    "max_attempts_per_minute": 250,
    "calls_per_minute": 40,
    "max_lines": 60,
}


class TestDialingProfiles(ProfileContract):
    path = h.DIALING
    settings: ClassVar[dict[str, Any]] = {
        "dialing_mode": "predictive",
        "caller_id": "+15550100",
        "pacing": PACING,
        "filtering": {
            "selection_rule": "custom.balance > 100",
            "sort": [{"field": "balance", "descending": True}],
            "max_attempts": 5,
        },
        "treatments": [
            {
                "call_result": 7,
                "sequence": 1,
                "action": "retry_in",
                "retry_count": 3,
                "interval_minutes": 30,
                "increment_minutes": 10,
            }
        ],
        "personal_callback_grace_minutes": 30,
    }
    changed_settings: ClassVar[dict[str, Any]] = {"dialing_mode": "preview", "caller_id": "+15550199"}

    @pytest.fixture
    def writer(self, supervisor: httpx.Client) -> httpx.Client:
        return supervisor

    def pair(self, admin: httpx.Client, made: dict[str, Any]) -> tuple[str, str]:
        return made["id"], h.session_profile(admin)["id"]


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"pacing": {"ring_timeout_seconds": 10}}, "settings.pacing.ring_timeout_seconds"),
        ({"pacing": {"ring_timeout_seconds": 121}}, "settings.pacing.ring_timeout_seconds"),
        ({"pacing": {"lines_per_agent": 0.5}}, "settings.pacing.lines_per_agent"),
        ({"pacing": {"lines_per_agent": 11}}, "settings.pacing.lines_per_agent"),
        ({"pacing": {"optimization_goal": 0}}, "settings.pacing.optimization_goal"),
        ({"pacing": {"max_attempts_per_minute": 0}}, "settings.pacing.max_attempts_per_minute"),
        ({"filtering": {"max_attempts": 0}}, "settings.filtering.max_attempts"),
        ({"dialing_mode": "telepathic"}, "settings.dialing_mode"),
        ({"personal_callback_grace_minutes": -1}, "settings.personal_callback_grace_minutes"),
        ({"personal_callback_grace_minutes": 1441}, "settings.personal_callback_grace_minutes"),
        (
            {"treatments": [{"call_result": 54, "action": "redial"}]},
            "settings.treatments[0].call_result",
        ),
        (
            {"treatments": [{"call_result": 3, "action": "explode"}]},
            "settings.treatments[0].action",
        ),
    ],
)
def test_out_of_range_settings_are_422_naming_the_path(
    supervisor: httpx.Client, runtime: Runtime, settings: dict[str, Any], field: str
) -> None:
    before = runtime.store.position()
    name = h.unique("Out of range")
    response = supervisor.post(h.DIALING, json={"name": name, "settings": settings})
    h.assert_problem(response, 422, field)
    assert runtime.store.position() == before
    assert name not in h.names(supervisor, h.DIALING)


def test_out_of_range_patch_leaves_the_profile_alone(supervisor: httpx.Client, runtime: Runtime) -> None:
    made = h.dialing_profile(supervisor)
    before = runtime.store.position()
    response = supervisor.patch(
        f"{h.DIALING}/{made['id']}",
        json={"description": "half", "settings": {"pacing": {"ring_timeout_seconds": 10}}},
    )
    h.assert_problem(response, 422, "settings.pacing.ring_timeout_seconds")
    assert runtime.store.position() == before
    assert h.get(supervisor, f"{h.DIALING}/{made['id']}").json() == made


def test_supervisor_can_make_a_dialing_profile_the_default(new_account: Any, client_for: Any) -> None:
    account = new_account()
    issued = account.admin.post(h.API_KEYS, json={"name": "sup", "role": "supervisor"})
    assert issued.status_code == 201, issued.text
    supervisor = client_for(issued.json()["secret"])
    first = h.dialing_profile(supervisor)
    second = h.dialing_profile(supervisor)
    assert first["is_default"] and not second["is_default"]
    response = supervisor.post(f"{h.DIALING}/{second['id']}/make-default")
    assert response.status_code == 200, response.text
    assert response.json()["is_default"] is True


def test_a_filter_that_is_not_a_selection_rule_is_422(supervisor: httpx.Client) -> None:
    body = {"name": h.unique("Filtered"), "settings": {"filtering": {"selection_rule": "atempt < 3"}}}
    problem = h.assert_problem(supervisor.post(h.DIALING, json=body), 422, "settings.filtering.selection_rule")
    assert "did you mean attempt" in problem["detail"]
