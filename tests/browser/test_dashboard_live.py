"""The live campaigns dashboard at ``/``, in headless Chromium, against a server dialling the demo
on the simulator: figures move without a reload, the charts draw, a pause from the page pauses
the group, a viewer gets no actions, a list's records and a record's trail open from the
list's line, and a screenshot of the page under load can be written.

The page's hooks are the ones gateway/static renders (``section.group[data-group-id]``,
``tr.list-line[data-list-id]``, ``td[data-field]``, ``button[data-action]``, ``svg[data-chart]``).
"""

from __future__ import annotations

import os
import re
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import WAIT_MS, Demo, expect, open_dashboard

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STREAM = "/api/v1/dashboard/stream"
RISES = """([selector, before]) => {
    const cell = document.querySelector(selector);
    return cell !== null && Number(cell.textContent.replace(/[^0-9]/g, "")) > before;
}"""


def group_of(demo: Demo) -> str:
    return f'section.group[data-group-id="{demo.group_id}"]'


def line_of(demo: Demo) -> str:
    return f'{group_of(demo)} tr.list-line[data-list-id="{demo.list_id}"]'


def count(text: str) -> int:
    digits = re.sub(r"[^0-9]", "", text)
    assert digits, f"no number in {text!r}"
    return int(digits)


def server_status(demo: Demo) -> str:
    with demo.api() as api:
        response = api.get(f"/api/v1/campaign-groups/{demo.group_id}")
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def eventually(check: Callable[[], bool], what: str, timeout: float = WAIT_MS / 1000) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} within {timeout:.0f} s"
        time.sleep(0.1)


def test_entering_a_key_shows_the_running_group_live(page: Page, demo: Demo) -> None:
    open_dashboard(page, demo)
    expect(page.locator("#live-status")).to_have_text(re.compile(r"^\s*live\s*$"))
    group = page.locator(group_of(demo))
    expect(group.locator('[data-field="status"]')).to_have_text(re.compile(r"\brunning\b", re.I))
    expect(group.locator('[data-field="dialing_mode"]')).to_have_text(re.compile(r"predictive", re.I))
    records = page.locator(f'{line_of(demo)} td[data-field="records_total"]')
    expect(records).to_have_text(re.compile(r"^\s*300\s*$"))


def test_a_started_groups_attempts_rise_without_a_reload(page: Page, demo: Demo) -> None:
    streams: list[str] = []
    page.on("request", lambda request: streams.append(request.url) if STREAM in request.url else None)
    open_dashboard(page, demo)
    selector = f'{line_of(demo)} td[data-field="attempts"]'
    cell = page.locator(selector)
    expect(cell).to_have_text(re.compile(r"\d"))
    page.evaluate("window.__marker = 1")
    before = count(cell.inner_text())

    page.wait_for_function(RISES, arg=[selector, before], timeout=WAIT_MS)

    assert page.evaluate("window.__marker") == 1, "the page was reloaded"
    assert streams, "the page never opened the dashboard stream"
    line, total = page.evaluate(
        """([selector, group]) => [document.querySelector(selector).textContent,
            document.querySelector(group + ' [data-field="attempts_today"]').textContent]""",
        [selector, group_of(demo)],
    )
    # One list in the group: its line and the group's total are the same figure.
    assert count(line) == count(total)
    with demo.api() as api:
        (shown,) = api.get("/api/v1/dashboard").json()["campaign_groups"]
    # The page shows a figure the server had at some moment before now.
    assert before < count(line) <= shown["contact_lists"][0]["today"]["attempts"]


def test_the_abandon_chart_draws_the_rate_against_its_target(page: Page, demo: Demo) -> None:
    def answered_quarters() -> int:
        with demo.api() as api:
            series = api.get(f"/api/v1/dashboard/campaign-groups/{demo.group_id}/series").json()
        return sum(1 for point in series["points"] if point["live"] > 0)

    # A quarter hour without a live answer has no abandon rate, and no point on the line.
    eventually(lambda: answered_quarters() > 0, "a live answer")
    open_dashboard(page, demo)
    chart = page.locator(f'{group_of(demo)} svg[data-chart="abandon-rate"]')
    expect(chart).to_be_visible()
    expect(chart.locator("path.series")).to_have_attribute("d", re.compile(r"^\s*[Mm]\s*-?[\d.]"))
    # One evaluation: the chart may redraw between two.
    drawn, d = chart.evaluate(
        "svg => [svg.querySelectorAll('g.dots circle').length, svg.querySelector('path.series').getAttribute('d')]"
    )
    commands = len(re.findall(r"[ML]", d))
    assert 1 <= drawn == commands <= answered_quarters(), (drawn, commands)
    target = chart.locator("line.target, path.target")
    expect(target.first).to_be_attached()
    dashes = target.first.evaluate("element => getComputedStyle(element).strokeDasharray")
    assert dashes not in ("", "none"), "the target line is not dashed"


def test_a_viewer_sees_no_actions_and_cannot_act(page: Page, browser: Browser, demo: Demo) -> None:
    with demo.api() as admin:
        issued = admin.post("/api/v1/api-keys", json={"name": "Wallboard", "role": "viewer"})
    assert issued.status_code == 201, issued.text
    viewer_key = issued.json()["secret"]
    with demo.api(viewer_key) as viewer:
        eventually(lambda: viewer.get("/api/v1/dashboard").status_code == 200, "the viewer key works")
        refused = viewer.post(f"/api/v1/campaign-groups/{demo.group_id}/pause")
    assert refused.status_code == 403, refused.text
    assert server_status(demo) == "running"

    # The same page for an admin has the group's actions: their absence below is the role's doing.
    open_dashboard(page, demo)
    expect(page.locator(f'{group_of(demo)} button[data-action="pause"]')).to_be_visible()

    context = browser.new_context()
    try:
        watcher = context.new_page()
        open_dashboard(watcher, demo, viewer_key)
        expect(watcher.locator(line_of(demo))).to_be_visible()
        expect(watcher.locator(f'{group_of(demo)} [data-field="status"]')).to_have_text(
            re.compile(r"\brunning\b", re.I)
        )
        expect(watcher.locator("button[data-action]")).to_have_count(0)
    finally:
        context.close()


def test_a_screenshot_of_the_page_under_load(page: Page, demo: Demo, tmp_path: Path) -> None:
    open_dashboard(page, demo)
    expect(page.locator("#live-status")).to_have_text(re.compile(r"^\s*live\s*$"))
    # Under load: calls answered and agents talking, not the first second of the campaign.
    connects = f'{line_of(demo)} td[data-field="connects"]'
    page.wait_for_function(RISES, arg=[connects, 4], timeout=2 * WAIT_MS)
    for chart in ("abandon-rate", "attempts", "agents"):
        expect(page.locator(f'{group_of(demo)} svg[data-chart="{chart}"]')).to_be_visible()
    expect(page.locator(f'{group_of(demo)} svg[data-chart="abandon-rate"] path.series')).to_have_attribute(
        "d", re.compile(r"\S")
    )
    page.locator("#api-key").blur()
    # The README's picture is written only on request; a test run leaves the tree alone.
    if os.environ.get("DIALSTREAM_WRITE_SCREENSHOT") == "1":
        target = ROOT / "docs" / "dashboard.png"
        target.parent.mkdir(exist_ok=True)
    else:
        target = tmp_path / "dashboard.png"

    page.screenshot(path=str(target), full_page=True)

    image = target.read_bytes()
    assert image[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", image[16:24])
    assert width >= 1280 and height >= 600, (width, height)


def test_a_lists_records_and_a_records_trail_open_from_its_line(page: Page, demo: Demo) -> None:
    with demo.api() as api:
        listed = api.get(f"/api/v1/contact-lists/{demo.list_id}/records", params={"limit": 50}).json()
        first = listed["items"][0]
        trail = api.get(f"/api/v1/records/{first['record_id']}").json()
    open_dashboard(page, demo)
    page.locator(f"{line_of(demo)} button.link").click()
    rows = page.locator("#drill tr.record")
    expect(rows).to_have_count(len(listed["items"]), timeout=WAIT_MS)
    ids = rows.evaluate_all("rows => rows.map(row => row.dataset.recordId)")
    assert ids == [item["record_id"] for item in listed["items"]], "the list's first page, in its order"
    expect(page.locator("#drill-more")).to_be_visible()  # the demo's list has more than a page

    rows.first.locator("button.link").click()
    expect(page.locator("#trail")).to_be_visible()
    expect(page.locator("#trail-title")).to_have_text(f"Record {trail['client_id']} #{trail['chain_n']}")
    contact = page.locator("#trail dl.summary div", has_text="Contact").locator("dd")
    expect(contact).to_contain_text(trail["contact_info"])


def test_a_pause_from_the_page_pauses_the_group(page: Page, demo: Demo) -> None:
    open_dashboard(page, demo)
    group = page.locator(group_of(demo))
    status = group.locator('[data-field="status"]')
    expect(status).to_have_text(re.compile(r"\brunning\b", re.I))
    try:
        group.locator('button[data-action="pause"]').click()

        expect(status).to_have_text(re.compile(r"\bpaused\b", re.I))
        eventually(lambda: server_status(demo) == "paused", "the server has the group paused")

        group.locator('button[data-action="resume"]').click()
        expect(status).to_have_text(re.compile(r"\brunning\b", re.I))
        eventually(lambda: server_status(demo) == "running", "the server has the group running again")
    finally:
        # Later tests of this module's server expect the group dialling.
        if server_status(demo) == "paused":
            with demo.api() as api:
                api.post(f"/api/v1/campaign-groups/{demo.group_id}/resume")
