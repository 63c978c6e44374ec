"""``/docs`` and ``/redoc`` work on a network without internet: neither page, nor any script or
style it loads from the gateway, refers to another host in a ``src``, ``href`` or ``url()``.

The pages are fetched from the in-process app; every asset they name on the app itself is
fetched too and scanned. In HTML every ``src``/``href`` attribute counts (a link elsewhere is
dead offline); in scripts and styles the forms a browser loads or links from: ``src``,
``href`` and ``srcset`` set in markup, in React-style element props (``src:"..."``) or as
properties (``.src = "..."``), CSS ``url(...)`` and ``@import``. Namespace URIs
(``xmlns="http://www.w3.org/2000/svg"``) and ``data:`` URIs are no references to a host.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

APP = "http://testserver"  # the TestClient's base URL: the app itself
PAGES = ("/docs", "/redoc")

QUOTED = r"""(?:"([^"]*)"|'([^']*)'|`([^`]*)`)"""
# src/href/srcset given a value: markup (src="..."), element props (src:"..."), properties (.src = "...").
ATTRIBUTE = re.compile(r"""\b(?:src|href|srcset)\s*[:=]\s*""" + QUOTED, re.IGNORECASE)
CSS_URL = re.compile(r"""url\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^)'"]*))\s*\)""", re.IGNORECASE)
CSS_IMPORT = re.compile(r"""@import\s+""" + QUOTED, re.IGNORECASE)


def _values(pattern: re.Pattern[str], text: str) -> list[str]:
    return [next(group for group in match.groups() if group is not None).strip() for match in pattern.finditer(text)]


def foreign(reference: str) -> bool:
    """Whether ``reference`` (as written in a page, script or style; a srcset's list too) names a host other than the app."""
    reference = reference.strip()
    if reference.lower().startswith(("data:", "#", "mailto:", "javascript:")):
        return False
    for token in re.split(r"[\s,]+", reference):
        if urlsplit(token).scheme in ("http", "https", "ws", "wss", "ftp") or token.startswith("//"):
            if urlsplit(urljoin(APP + "/", token)).netloc != urlsplit(APP).netloc:
                return True
    return False


class _References(HTMLParser):
    """Every ``src``, ``href`` and ``srcset`` of the page's elements, and its inline scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.attributes: list[tuple[str, str, str]] = []
        self.inline: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "srcset") and value is not None:
                self.attributes.append((tag, name, value))
            if name == "style" and value:
                self.inline.append(value)
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.inline.append(data)


def foreign_in_code(text: str) -> list[str]:
    """The references to another host in a script or style (or an inline one)."""
    found = _values(ATTRIBUTE, text) + _values(CSS_URL, text) + _values(CSS_IMPORT, text)
    return sorted({value for value in found if not value.startswith("data:") and foreign(value)})


def _page(client, path: str) -> tuple[list[tuple[str, str, str]], list[str], dict[str, str]]:
    """The page's element references, its inline code, and each script and style it loads from the app (URL -> text)."""
    answer = client.get(path)
    assert answer.status_code == 200, path
    parser = _References()
    parser.feed(answer.text)
    assets = {}
    for tag, _name, value in parser.attributes:
        if tag in ("script", "link") and not foreign(value):
            url = urljoin(APP + path, value)
            if url.endswith((".js", ".css")):
                loaded = client.get(urlsplit(url).path)
                assert loaded.status_code == 200, url
                assets[url] = loaded.text
    return parser.attributes, parser.inline, assets


@pytest.mark.parametrize("path", PAGES)
def test_the_page_and_everything_it_loads_name_no_other_host(client, path):
    attributes, inline, assets = _page(client, path)
    assert assets, f"{path} loads no script or style from the app"
    elsewhere = [f"<{tag} {name}={value}>" for tag, name, value in attributes if foreign(value)]
    assert elsewhere == [], f"{path} refers to another host: {elsewhere}"
    for code in inline:
        assert foreign_in_code(code) == [], f"{path}'s inline script or style refers to another host"
    for url, text in assets.items():
        assert foreign_in_code(text) == [], f"{url} (loaded by {path}) refers to another host"


def test_redoc_shows_no_logo_from_a_cdn_and_swagger_ui_no_validator_badge(client):
    script = client.get("/docs-assets/redoc.standalone.js").text
    assert "cdn.redoc.ly" not in script and "API docs by Redocly" in script
    # Swagger UI loads its badge from validator.swagger.io unless the page sets validatorUrl to null.
    assert '"validatorUrl": null' in client.get("/docs").text
    # ReDoc's own font and the pages' favicon come from the app.
    redoc = client.get("/redoc").text
    assert "fonts.googleapis" not in redoc and 'href="/docs-assets/favicon.png"' in redoc


def test_the_scan_finds_what_it_is_meant_to():
    """The scanner itself: each form of a reference elsewhere is caught, the app's own and data: URIs are not."""
    assert foreign_in_code('r.createElement("img",{src:"https://cdn.example.com/logo.svg"})') == ["https://cdn.example.com/logo.svg"]
    assert foreign_in_code("img.src = 'http://example.org/a.png'") == ["http://example.org/a.png"]
    assert foreign_in_code('<a href="//example.net/x">') == ["//example.net/x"]
    assert foreign_in_code('.a{background:url("https://example.com/b.png")} @import "https://example.com/c.css";') == [
        "https://example.com/b.png", "https://example.com/c.css",
    ]  # fmt: skip
    assert foreign_in_code("""url("data:image/svg+xml;charset=utf-8,<svg xmlns=\\"http://www.w3.org/2000/svg\\"/>")""") == []
    assert foreign_in_code('src:"/docs-assets/a.js" href="http://testserver/docs" xmlns="http://www.w3.org/2000/svg"') == []
