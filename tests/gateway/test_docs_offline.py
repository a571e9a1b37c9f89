"""/docs and /redoc work on a network with no way out: every script, style sheet, icon and
spec they name is served by Dialstream itself, none by a CDN."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

# Any absolute or protocol-relative URL, in an attribute or in an inline script.
ABSOLUTE = re.compile(r"(?:https?:)?//[^\s'\"<>()]+", re.IGNORECASE)
# The spec URL Swagger UI is configured with in its inline script: ``url: '/openapi.json'``.
SCRIPT_URL = re.compile(r"\burl:\s*['\"]([^'\"]+)['\"]")


class References(HTMLParser):
    """Every URL an element names: src, href, and attributes ending in -url (``spec-url``)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, URL)
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        for name, value in attrs:
            if value and (name in ("src", "href") or name.endswith("-url")):
                self.urls.append((tag, name, value))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.scripts.append(data)


def references(html: str) -> References:
    parser = References()
    parser.feed(html)
    parser.close()
    return parser


@pytest.mark.parametrize(
    ("page", "scripts", "styles"),
    [
        ("/docs", {"swagger-ui-bundle.js"}, {"swagger-ui.css"}),
        ("/redoc", {"redoc.standalone.js"}, set()),
    ],
)
def test_the_documentation_names_no_external_host_and_every_asset_is_served(
    base_url: str, page: str, scripts: set[str], styles: set[str]
) -> None:
    response = httpx.get(f"{base_url}{page}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    found = references(response.text)

    external = ABSOLUTE.findall(response.text)
    assert not external, f"{page} names hosts outside this server: {external}"
    named_scripts = {url.rsplit("/", 1)[-1] for tag, name, url in found.urls if (tag, name) == ("script", "src")}
    named_styles = {
        url.rsplit("/", 1)[-1] for tag, name, url in found.urls if tag == "link" and url.endswith(".css")
    }
    assert named_scripts == scripts, found.urls
    assert named_styles == styles, found.urls

    urls = [url for _, _, url in found.urls]
    urls += [match for script in found.scripts for match in SCRIPT_URL.findall(script)]
    assert f"{base_url}/openapi.json" in {urljoin(f"{base_url}{page}", url) for url in urls}, urls
    for url in urls:
        absolute = urljoin(f"{base_url}{page}", url)
        assert urlsplit(absolute).netloc == urlsplit(base_url).netloc, url
        served = httpx.get(absolute)
        assert served.status_code == 200, f"{url} answered {served.status_code}"
        assert served.content, url
        if url.endswith(".js"):
            assert "javascript" in served.headers["content-type"], served.headers
            # The real bundle, not a stub that would load the rest from elsewhere.
            assert len(served.content) > 500_000, (url, len(served.content))
        if url.endswith(".css"):
            assert served.headers["content-type"].startswith("text/css"), served.headers


def test_swagger_ui_asks_no_online_validator(base_url: str) -> None:
    """Swagger UI's default fetches a badge from validator.swagger.io for every spec."""
    html = httpx.get(f"{base_url}/docs").text
    assert '"validatorUrl": null' in html

