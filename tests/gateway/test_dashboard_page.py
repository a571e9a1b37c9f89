"""The campaigns dashboard page at ``/``: what can be checked without a browser.

The gateway serves the page and every script and style sheet it loads (following the
scripts' imports) with the right content type; no static file names another host (the page
works on a network with no way out); each DOM hook the browser tests rely on is in the HTML
or made by the scripts; the record codes the drill-down names are the product's; and the
figures the scripts read are in what the server sends. The page's behaviour in a browser is
tests/browser/'s.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from domain.codes import RecordStatus, RecordType
from gateway.app import STATIC
from tests.gateway import helpers as h
from tests.gateway.conftest import Account

# An absolute URL, or a protocol-relative one (//host.name/…), anywhere in a file.
ABSOLUTE = re.compile(r"https?://[^\s'\"<>()`]+|(?<![:\w])//[A-Za-z0-9-]+\.[A-Za-z0-9.-]+", re.IGNORECASE)
# The SVG namespace is a name that createElementNS compares, never a resource fetched.
NAMES_NOT_FETCHED = {"http://www.w3.org/2000/svg"}
IMPORT = re.compile(r"""^\s*import\s[^;]*?from\s+["'](\./[\w.-]+)["']""", re.MULTILINE)


class Assets(HTMLParser):
    """The scripts and style sheets a page loads, and every src/href it names."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.references: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href"):
            if found.get(name):
                self.references.append(str(found[name]))
        if tag == "script" and found.get("src"):
            self.scripts.append(str(found["src"]))
        if tag == "link" and found.get("rel") == "stylesheet" and found.get("href"):
            self.styles.append(str(found["href"]))


def page_assets(html: str) -> Assets:
    parser = Assets()
    parser.feed(html)
    parser.close()
    return parser


def source(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def test_the_page_and_every_script_and_style_it_loads_are_served(base_url: str) -> None:
    page = httpx.get(f"{base_url}/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assets = page_assets(page.text)
    assert assets.scripts == ["/static/dashboard.js"]
    assert assets.styles == ["/static/dashboard.css"]
    css = httpx.get(f"{base_url}/static/dashboard.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")

    loaded: set[str] = set()
    pending = list(assets.scripts)
    while pending:
        path = pending.pop()
        if path in loaded:
            continue
        loaded.add(path)
        script = httpx.get(f"{base_url}{path}")
        assert script.status_code == 200, path
        # A module script with any other type is refused by the browser.
        assert script.headers["content-type"].startswith("text/javascript"), (path, script.headers)
        pending += [f"/static/{name.removeprefix('./')}" for name in IMPORT.findall(script.text)]
    on_disk = {f"/static/{file.name}" for file in STATIC.glob("*.js")}
    assert loaded == on_disk, "every script is loaded by the page, and every import exists"


def test_no_static_file_names_another_host() -> None:
    for file in sorted(STATIC.iterdir()):
        text = file.read_text(encoding="utf-8")
        outside = set(ABSOLUTE.findall(text)) - NAMES_NOT_FETCHED
        assert not outside, f"{file.name} names {sorted(outside)}"
    for reference in page_assets(source("index.html")).references:
        assert reference.startswith(("/", "#", "data:")) and not reference.startswith("//"), reference


# Each DOM hook of the contract with the browser tests, and where it is made: a pattern in
# the HTML or in the script that renders it.
HOOKS: list[tuple[str, str, str]] = [
    ("#key-form", "index.html", r'<form id="key-form"'),
    ("#api-key", "index.html", r'<input id="api-key"'),
    ("#live-status", "index.html", r'id="live-status"'),
    ("#live-status says live", "stream.js", r'this\.onState\("live"\)'),
    ("#live-status says reconnecting", "stream.js", r'this\.onState\("reconnecting"\)'),
    ("#live-status shows the state", "dashboard.js", r"setText\(liveStatus, state\)"),
    ("#drill", "index.html", r'<section id="drill"'),
    ("#drill's more button", "index.html", r'<button type="button" id="drill-more"'),
    ("#trail", "index.html", r'<section id="trail"'),
    (
        "section.group[data-group-id]",
        "groups.js",
        r'el\(\s*"section",\s*\{ class: "group", "data-group-id": id',
    ),
    ('[data-field="status"]', "groups.js", r'"data-field": "status"'),
    ('[data-field="dialing_mode"]', "groups.js", r'"data-field": "dialing_mode"'),
    ('[data-field="attempts_today"]', "groups.js", r'tile\("[^"]+", "attempts_today"'),
    ("a tile's data-field", "groups.js", r'el\("span", \{ class: "value", "data-field": field \}\)'),
    ("tr.list-line[data-list-id]", "groups.js", r'el\("tr", \{ class: "list-line", "data-list-id": id \}'),
    ("td[data-field] of a list line", "groups.js", r'el\("td", \{[^}]*"data-field": field \}\)'),
    *(
        (f'td[data-field="{field}"]', "groups.js", rf'^\s*\["{field}", "')
        for field in (
            "records_total",
            "in_progress",
            "completed",
            "suppressed",
            "attempts",
            "connects",
            "abandons",
            "abandon_rate",
            "answer_rate",
        )
    ),
    *(
        (f'button[data-action="{action}"]', "groups.js", rf'\{{ action: "{action}", label: ')
        for action in ("start", "pause", "resume", "stop", "switch-mode")
    ),
    ("button[data-action]", "groups.js", r'el\("button", \{ type: "button", "data-action": action \}'),
    ("actions only for a supervisor or an admin", "dashboard.js", r'new Set\(\["supervisor", "admin"\]\)'),
    ("actions only when the caller may act", "groups.js", r"const actions = this\.canAct\s*\?"),
    *(
        (f'svg[data-chart="{chart}"]', "series.js", rf'figure\("{chart}", ')
        for chart in ("abandon-rate", "attempts", "agents")
    ),
    ("svg[data-chart]", "charts.js", r'svgEl\("svg", \{[^}]*"data-chart": name'),
    ("path.series", "charts.js", r'svgEl\("path", \{ class: `series '),
    ("line.target", "charts.js", r'svgEl\("line", \{ class: "target"'),
    (
        "tr.record[data-record-id]",
        "drill.js",
        r'"tr",\s*\{ class: "record", "data-record-id": record\.record_id \}',
    ),
    ("the stream", "dashboard.js", r'new LiveStream\("/api/v1/dashboard/stream"'),
    ("the stream read from the body", "stream.js", r"response\.body\.getReader\(\)"),
]


@pytest.mark.parametrize(("hook", "file", "pattern"), HOOKS, ids=[hook for hook, _, _ in HOOKS])
def test_each_dom_hook_of_the_contract_is_made(hook: str, file: str, pattern: str) -> None:
    assert re.search(pattern, source(file), re.MULTILINE), f"{hook}: no {pattern!r} in {file}"


def _code_names(name: str) -> dict[int, str]:
    block = re.search(rf"export const {name} = \{{(.*?)\}};", source("drill.js"), re.DOTALL)
    assert block is not None, name
    return {int(code): label for code, label in re.findall(r'(\d+): "([^"]+)"', block.group(1))}


@pytest.mark.parametrize(("name", "codes"), [("RECORD_TYPES", RecordType), ("RECORD_STATUSES", RecordStatus)])
def test_the_drill_down_names_the_products_record_codes(name: str, codes: Any) -> None:
    expected = {code.value: code.name.lower().replace("_", " ") for code in codes}
    assert _code_names(name) == expected


# What the scripts read from the server (dashboard.js, groups.js, series.js): a renamed field
# would leave a dash on the page and no error anywhere else.
GROUP_FIELDS = {"campaign_group_id", "name", "status", "dialing_mode", "agent_group", "agents", "abandon"}
GROUP_FIELDS |= {"pacing", "calls", "dial_rate_per_minute", "records", "contact_lists", "at", "occupancy_today"}
ABANDON_FIELDS = {"target_rate", "last_24h", "last_30d", "binding"}
LIST_FIELDS = {"contact_list_id", "name", "channel", "records", "today", "denied_today"}
ACCOUNT_FIELDS = {"records_total", "records_retrieved", "records_updated", "records_no_call"}
ACCOUNT_FIELDS |= {"attempts", "connects", "abandons", "abandon_rate", "answer_rate", "denied_today"}


def test_the_figures_the_page_reads_are_served(
    new_account: Callable[[], Account], client_for: Callable[[str | None], httpx.Client]
) -> None:
    account = new_account()
    made = h.chain(account.admin)
    issued = account.admin.post(h.API_KEYS, json={"name": h.unique("viewer"), "role": "viewer"})
    assert issued.status_code == 201, issued.text
    viewer = client_for(issued.json()["secret"])

    for client, role in ((account.admin, "admin"), (viewer, "viewer")):
        view = h.get(client, "/api/v1/dashboard").json()
        assert view["caller"] == {"role": role}
        assert {"at", "time_zone", "today_from", "account", "campaign_groups"} <= view.keys()
    assert not ACCOUNT_FIELDS - view["account"].keys()
    (group,) = view["campaign_groups"]
    assert group["campaign_group_id"] == made["group"]["id"]
    assert not GROUP_FIELDS - group.keys()
    assert not ABANDON_FIELDS - group["abandon"].keys()
    assert {"abandoned", "live_answered", "rate"} <= group["abandon"]["last_24h"].keys()
    assert {"ready", "dialable_now", "total"} <= group["records"].keys()
    assert "lines" in group["calls"]
    (line,) = group["contact_lists"]
    assert not LIST_FIELDS - line.keys()
    assert {"total", "in_progress", "completed", "suppressed"} <= line["records"].keys()
    assert {"attempts", "connects", "abandons", "abandon_rate", "answer_rate"} <= line["today"].keys()

    series = h.get(viewer, f"/api/v1/dashboard/campaign-groups/{made['group']['id']}/series?hours=8").json()
    assert {"interval_minutes", "abandon_target_percent", "points", "agent_states"} <= series.keys()
    assert series["points"], "the intervals up to now, even quiet ones"
    assert {"start", "attempts", "live", "connects", "abandons", "abandon_rate"} <= series["points"][0].keys()
    for slot in series["agent_states"]:
        assert {"start", "seconds"} <= slot.keys()
