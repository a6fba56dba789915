"""The page at ``/`` (``ucs serve`` prints the server's address, and whoever opens it lands
there): a link to each of ucs's pages that answers, in English or Czech, and the demo's CRM
page and accounts only on a demo server."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import Running, serving

pytestmark = pytest.mark.anyio

PAGES = ("/operator/", "/wallboard/", "/reports/", "/admin/", "/api/docs", "/healthz", "/metrics")


def _links(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)"', html)


def _pages(html: str) -> set[str]:
    """The pages linked, without the language the links carry (the home page's own)."""
    return {link.removesuffix("?lang=en").removesuffix("?lang=cs") or link for link in _links(html)}


async def test_the_home_page_links_every_page_and_each_answers(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url) as http:
        home = await http.get("/")
        assert home.status_code == 200
        assert home.headers["content-type"].startswith("text/html")
        links = _links(home.text)
        assert set(PAGES) | {"/demo/crm/"} <= _pages(home.text)
        # the pages that speak Czech too are opened in the home page's language
        assert {"/operator/?lang=en", "/admin/?lang=en", "/demo/crm/?lang=en"} <= set(links)
        for link in links:
            answer = await http.get(link)
            assert answer.status_code == 200, (link, answer.status_code)
        # The demo's accounts and its public token are said: it is a demo.
        assert "agent1-pass" in home.text and "demo-admin-token" in home.text
        assert '<html lang="en">' in home.text


async def test_the_home_page_speaks_the_browsers_language_or_the_one_asked(
    running: Running,
) -> None:
    async with httpx.AsyncClient(base_url=running.url) as http:
        czech = await http.get("/", headers={"Accept-Language": "cs-CZ,cs;q=0.9,en;q=0.8"})
        assert '<html lang="cs">' in czech.text and "Kontaktní centrum" in czech.text
        assert czech.headers["content-language"] == "cs"
        assert "/?lang=en" in _links(czech.text)  # and the way back to English
        asked = await http.get("/?lang=en", headers={"Accept-Language": "cs"})
        assert '<html lang="en">' in asked.text
        unknown = await http.get("/?lang=xx", headers={"Accept-Language": "de, fr;q=0.5"})
        assert '<html lang="en">' in unknown.text


async def test_every_page_has_an_icon(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url) as http:
        icon = await http.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg")


async def test_a_server_without_the_demo_names_no_demo(tmp_path: Path) -> None:
    async with serving(tmp_path, demo=False, admin_token="a-token-of-our-own-1") as running:
        async with httpx.AsyncClient(base_url=running.url) as http:
            home = await http.get("/")
            assert home.status_code == 200
            assert _pages(home.text) == set(PAGES) | {"/"}  # (and "/?lang=cs")
            assert "/demo/crm/" not in home.text
            assert "agent1-pass" not in home.text and "demo-admin-token" not in home.text
            assert (await http.get("/demo/crm/")).status_code == 404
