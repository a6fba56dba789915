"""Media tests: Janus in a network namespace of the test's own, with real audio.

Janus never uses loopback interfaces for ICE (docs/media.md), so each test makes a namespace
with a veth pair: the test's side (the server, Chromium, the simulated callers) on
198.18.N.1, Janus inside on 198.18.N.2 (``ice_enforce_list``). Needs root and Janus; skipped
with the reason otherwise. The namespace and its link go with the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, browser, crm  # noqa: F401 (fixtures)
from tests.server.conftest import Running, running, serving  # noqa: F401 (a fixture)
from ucs.media.sounds import Sounds, tools_installed


@dataclass(frozen=True)
class Netns:
    name: str
    host_ip: str
    """This side of the link (the server, Chromium)."""
    engine_ip: str
    """Janus's side, inside the namespace."""
    engine_interface: str


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def netns() -> Iterator[Netns]:
    if os.geteuid() != 0:
        pytest.skip("media tests run Janus in a network namespace: they need root")
    if shutil.which("janus") is None:
        pytest.skip("janus is not installed (make media-engine installs it)")
    if shutil.which("ip") is None:
        pytest.skip("iproute2 is not installed")
    existing = set(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else set()
    n = os.getpid() % 250 + 1
    while f"ucs-media-{n}" in existing:
        n = n % 250 + 1
    name, host, peer = f"ucs-media-{n}", f"ucsm{n}a", f"ucsm{n}b"
    _ip("netns", "add", name)
    try:
        _ip("link", "add", host, "type", "veth", "peer", "name", peer, "netns", name)
        _ip("addr", "add", f"198.18.{n}.1/24", "dev", host)
        _ip("link", "set", host, "up")
        _ip("-n", name, "link", "set", "lo", "up")
        _ip("-n", name, "addr", "add", f"198.18.{n}.2/24", "dev", peer)
        _ip("-n", name, "link", "set", peer, "up")
        yield Netns(name, f"198.18.{n}.1", f"198.18.{n}.2", peer)
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)


@pytest.fixture(scope="session")
def default_sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default sounds, made once per test process (encoding the music takes a second)."""
    folder = tmp_path_factory.mktemp("sounds")
    if tools_installed():
        asyncio.run(Sounds(folder).ensure_defaults())
    return folder


@contextlib.asynccontextmanager
async def media_serving(
    tmp_path: Path, netns: Netns, default_sounds: Path
) -> AsyncIterator[Running]:
    """The demo server with Janus started in ``netns``, once the engine answers; its sounds
    are a copy of the default set (tests may replace them)."""
    sounds = tmp_path / "sounds"
    shutil.copytree(default_sounds, sounds)
    async with serving(
        tmp_path,
        sounds_dir=str(sounds),
        media="janus",
        media_rtp_ip=netns.engine_ip,
        media_ice_interface=netns.engine_interface,
        media_prefix=("ip", "netns", "exec", netns.name),
    ) as server:
        media = server.server.media
        async with asyncio.timeout(20):
            while not media.available:  # noqa: ASYNC110 (the supervisor has no event to wait on)
                await asyncio.sleep(0.05)
        yield server


@pytest.fixture
async def media_server(
    tmp_path: Path, netns: Netns, default_sounds: Path
) -> AsyncIterator[Running]:
    """``media_serving`` as a fixture."""
    async with media_serving(tmp_path, netns, default_sounds) as server:
        yield server


SOFTPHONE_ARGS = [
    "--allow-loopback-in-peer-connection",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]
"""Chromium as a softphone in tests: a fake microphone playing a file, no permission prompt."""


@pytest.fixture
async def softphone_browser(
    tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[object]:
    """Chromium whose fake microphone plays a 1 kHz tone (the agent's voice)."""
    from playwright.async_api import async_playwright

    from tests.browser.conftest import ARGS, Watched
    from tests.media.audio import write_tone

    if not HAVE_CHROMIUM:
        pytest.skip("chromium is not installed")
    mic = write_tone(tmp_path / "agent-1000hz.wav", AGENT_TONE)
    args = [*ARGS, *SOFTPHONE_ARGS, f"--use-file-for-fake-audio-capture={mic}"]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=args)
        yield Watched(browser, request.node)
        await browser.close()


HAVE_CHROMIUM = bool(CHROMIUM) and os.path.exists(CHROMIUM)
AGENT_TONE = 1000.0
"""What the agent's fake microphone says."""
