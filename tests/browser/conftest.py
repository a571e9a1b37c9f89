"""The campaigns dashboard in a real browser: Debian's Chromium, headless, driven by Playwright.

One server per module: ``dialstream up`` as a subprocess on a free 127.0.0.1 port, its
telephony the simulator ten times faster than life, and ``dialstream demo`` (a few hundred
records, ten simulated agents) dialling in it, so the page has a running group to show.
Playwright launches the system ``chromium`` binary; its own browser download is never used.
Without Chromium or Playwright the fixtures fail, saying how to install them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.up import free_port, stop, wait_until_healthy

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, LocatorAssertions, Page

DIALSTREAM = [sys.executable, "-m", "dialstream.cli"]
BOOTSTRAP_KEY = "dsk_browser_tests_bootstrap_key_0001"
DEMO_RECORDS = 300
DEMO_AGENTS = 10
# Playwright's waits, in milliseconds: generous for a loaded 2-core machine, short enough
# that a page which never updates fails the test rather than the run's timeout.
WAIT_MS = 20_000


@dataclass(frozen=True)
class Demo:
    """A running server and the demo campaign dialling in it."""

    base_url: str
    admin_key: str  # the demo account's admin key
    group_id: str
    list_id: str
    log: Path

    def api(self, key: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {key or self.admin_key}"}, timeout=10
        )


def chromium_binary() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "the browser tests need Debian's chromium package: run `make deps` "
            "(compose/install-deps.sh) or `apt-get install --no-install-recommends chromium`",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_binary()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "the browser tests need Playwright (a dev dependency): run `make install` (uv sync --frozen); "
            "its browser download (`playwright install`) is not needed, the system chromium is used",
            pytrace=False,
        )
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (its own sessionStorage) and page; dialogs are confirmed, as a user would."""
    context = browser.new_context(viewport={"width": 1280, "height": 960})
    context.set_default_timeout(WAIT_MS)
    opened = context.new_page()
    opened.on("dialog", lambda dialog: dialog.accept())
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    data_dir = tmp_path_factory.mktemp("dashboard")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("DIALSTREAM_")}
    env |= {
        "DIALSTREAM_DATA_DIR": str(data_dir),
        "DIALSTREAM_PORT": str(port),
        "DIALSTREAM_BOOTSTRAP_KEY": BOOTSTRAP_KEY,
        "DIALSTREAM_TELEPHONY": "simulator:7:x10",
    }
    log = data_dir / "server.log"
    # A file, not a pipe: the access log of a streaming page would fill a pipe nobody reads.
    with log.open("w") as sink:
        server = subprocess.Popen([*DIALSTREAM, "up"], env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_until_healthy(base_url, server, log, 30)
        made = subprocess.run(
            [
                *DIALSTREAM,
                "demo",
                "--url",
                base_url,
                "--records",
                str(DEMO_RECORDS),
                "--agents",
                str(DEMO_AGENTS),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert made.returncode == 0, (
            f"dialstream demo failed:\n{made.stdout}\n{made.stderr}\n{log.read_text()}"
        )
        admin_key = _one(r"^\s+(dsk_\S+)$", made.stdout)
        group_id = _one(r"Campaign group (\S+) is dialling", made.stdout)
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {admin_key}"}) as api:
            group = api.get(f"/api/v1/campaign-groups/{group_id}")
            assert group.status_code == 200, group.text
            (list_id,) = group.json()["contact_list_ids"]
        yield Demo(base_url=base_url, admin_key=admin_key, group_id=group_id, list_id=list_id, log=log)
    finally:
        stop(server)


def expect(locator: Locator) -> LocatorAssertions:
    """Playwright's ``expect``, imported late so that a missing Playwright fails a fixture
    with how to install it, not the collection of the test module."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def open_dashboard(page: Page, demo: Demo, key: str | None = None) -> None:
    """Load ``/`` and enter the key the way a user does: type it into the form and press Enter."""
    page.goto(demo.base_url + "/")
    page.fill("#api-key", key or demo.admin_key)
    page.press("#api-key", "Enter")


def _one(pattern: str, text: str) -> str:
    found = re.search(pattern, text, re.MULTILINE)
    assert found is not None, f"no {pattern!r} in the demo's output:\n{text}"
    return found.group(1)
