"""Real Chromium against a real server, with the CRM page on another origin (another port)."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import Running, running  # noqa: F401 (the server fixture)

DEBIAN_CHROMIUM = "/usr/bin/chromium"
CHROMIUM = DEBIAN_CHROMIUM if os.path.exists(DEBIAN_CHROMIUM) else shutil.which("chromium") or ""
"""Debian's Chromium (``make chromium``), even when another is first on the PATH."""
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on its own port: the CRM's origin."""
    handler = lambda *a, **kw: http.server.SimpleHTTPRequestHandler(  # noqa: E731
        *a, directory=str(tmp_path), **kw
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    httpd.RequestHandlerClass.log_message = lambda *a: None  # type: ignore[method-assign]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{port}"
    httpd.shutdown()
    httpd.server_close()


class Watched:
    """A launched browser whose every page reports what its console said, the errors thrown
    in it and the requests that failed: printed with a failed test (tests/conftest.py), since
    a page that never becomes ready says why only there."""

    def __init__(self, browser: Any, node: pytest.Item) -> None:
        self._browser = browser
        self.log: list[str] = []
        node.stash[BROWSER_LOG] = self.log

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)

    def watch(self, page: Any) -> Any:
        log = self.log
        page.on("console", lambda m: log.append(f"console.{m.type}: {m.text} ({page.url})"))
        page.on("pageerror", lambda e: log.append(f"pageerror: {e} ({page.url})"))
        page.on("requestfailed", lambda r: log.append(f"requestfailed: {r.url} {r.failure}"))
        return page

    async def new_page(self, **kwargs: Any) -> Any:
        return self.watch(await self._browser.new_page(**kwargs))

    async def new_context(self, **kwargs: Any) -> Any:
        context = await self._browser.new_context(**kwargs)
        context.on("page", self.watch)
        return context


BROWSER_LOG = pytest.StashKey[list[str]]()


@pytest.fixture
async def browser(request: pytest.FixtureRequest) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield Watched(b, request.node)
        await b.close()
