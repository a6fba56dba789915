"""Media tests: Janus in a network namespace, with real audio.

Janus never uses loopback interfaces for ICE (docs/media.md), so each test process makes a
namespace with a veth pair: the test's side (the server, Chromium, the simulated callers) on
198.18.N.1, Janus inside on 198.18.N.2 (``ice_enforce_list``). Needs root and Janus; skipped
with the reason otherwise. Each test starts its own Janus in it; the namespace and its link go
with the test process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def _ip(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["ip", *args], capture_output=True, timeout=30)


def _must(*args: str) -> None:
    done = _ip(*args)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.decode(errors='replace').strip()}")


def _make_netns(n: int) -> Netns | None:
    """Namespace ``ucs-media-N`` with its veth pair, or None when N is taken: its namespace
    or link exists (another test process's, another checkout's, or one the kernel is still
    deleting; ``ip netns add`` and ``ip link add`` are atomic, so two processes never share).

    No address of the pair changes after this returns: Chromium takes any address or link
    change of the host (its network change notifier) for a new network and fails the
    connections it is opening with ``ERR_NETWORK_CHANGED``, so an IPv6 link-local address
    that the kernel adds a second or more later (after its duplicate address detection)
    would fail a page's module loads. The pair has no IPv6 address (``addrgenmode none``) and
    is up (carrier on both ends) before it is used."""
    name, host, peer = f"ucs-media-{n}", f"ucsm{n}a", f"ucsm{n}b"
    if _ip("netns", "add", name).returncode != 0:
        return None
    try:
        if _ip("link", "add", host, "type", "veth", "peer", "name", peer, "netns", name).returncode:
            _ip("netns", "del", name)
            return None
        _must("link", "set", host, "addrgenmode", "none")
        _must("-n", name, "link", "set", peer, "addrgenmode", "none")
        _must("addr", "add", f"198.18.{n}.1/24", "dev", host)
        _must("-n", name, "link", "set", "lo", "up")
        _must("-n", name, "addr", "add", f"198.18.{n}.2/24", "dev", peer)
        _must("-n", name, "link", "set", peer, "up")
        _must("link", "set", host, "up")
        operstate = Path(f"/sys/class/net/{host}/operstate")
        deadline = time.monotonic() + 30
        while operstate.read_text().strip() != "up":
            if time.monotonic() > deadline:
                raise RuntimeError(f"{host} is not up after 30 s")
            time.sleep(0.02)
    except BaseException:
        _ip("netns", "del", name)
        raise
    return Netns(name, f"198.18.{n}.1", f"198.18.{n}.2", peer)


@pytest.fixture(scope="session")
def netns() -> Iterator[Netns]:
    """This test process's namespace, made at its first media test and deleted at its end:
    one per process rather than one per test, since each making and deleting is a change of
    the host's network that every Chromium running then sees (``_make_netns``). Each test's
    Janus runs in it and is gone (stopped with its server) before the next test starts."""
    if os.geteuid() != 0:
        pytest.skip("media tests run Janus in a network namespace: they need root")
    if shutil.which("janus") is None:
        pytest.skip("janus is not installed (make media-engine installs it)")
    if shutil.which("ip") is None:
        pytest.skip("iproute2 is not installed")
    first = os.getpid() % NAMESPACES
    for i in range(NAMESPACES):
        made = _make_netns((first + i) % NAMESPACES + 1)
        if made is not None:
            break
    else:
        raise RuntimeError(f"all {NAMESPACES} ucs-media-N namespaces are taken (ip netns list)")
    try:
        yield made
    finally:
        _ip("netns", "del", made.name)


NAMESPACES = 250
"""ucs-media-1 to ucs-media-250: 198.18.N.0/24 each."""


@pytest.fixture(scope="session")
def default_sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default sounds, made once per test process (encoding the music takes a second)."""
    folder = tmp_path_factory.mktemp("sounds")
    if tools_installed():
        asyncio.run(Sounds(folder).ensure_defaults())
    return folder


@contextlib.asynccontextmanager
async def media_serving(
    tmp_path: Path, netns: Netns, default_sounds: Path, **settings: Any
) -> AsyncIterator[Running]:
    """The demo server with Janus started in ``netns``, once the engine answers; its sounds
    are a copy of the default set (tests may replace them). ``settings``: more of them (the
    SIP switch)."""
    sounds = tmp_path / "sounds"
    shutil.copytree(default_sounds, sounds)
    async with serving(
        tmp_path,
        sounds_dir=str(sounds),
        media="janus",
        media_rtp_ip=netns.engine_ip,
        media_ice_interface=netns.engine_interface,
        media_prefix=("ip", "netns", "exec", netns.name),
        **settings,
    ) as server:
        media = server.server.media
        async with asyncio.timeout(20):
            # (rtpengine too, with the SIP switch: a call before it is up is not relayed)
            while not (media.available and (media.relay is None or media.relay.available)):  # noqa: ASYNC110
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
    async with _browser_saying(AGENT_TONE, tmp_path, request) as chromium:
        yield chromium


@contextlib.asynccontextmanager
async def _browser_saying(
    hz: float, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Any]:
    """Chromium as a softphone whose fake microphone says ``hz``."""
    from playwright.async_api import async_playwright

    from tests.browser.conftest import ARGS, Watched
    from tests.media.audio import write_tone

    if not HAVE_CHROMIUM:
        pytest.skip("chromium is not installed")
    mic = write_tone(tmp_path / f"mic-{hz:g}hz.wav", hz)
    args = [*ARGS, *SOFTPHONE_ARGS, f"--use-file-for-fake-audio-capture={mic}"]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=args)
        yield Watched(browser, request.node)
        await browser.close()


HAVE_CHROMIUM = bool(CHROMIUM) and os.path.exists(CHROMIUM)
SUPERVISOR_TONE = 1700.0
"""What the supervisor's fake microphone says."""


@pytest.fixture
async def supervisor_browser(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """Chromium whose fake microphone says 1.7 kHz (the supervisor's voice)."""
    async with _browser_saying(SUPERVISOR_TONE, tmp_path, request) as chromium:
        yield chromium


AGENT_TONE = 1000.0
"""What the agent's fake microphone says."""


@pytest.fixture
async def sip_media(
    tmp_path: Path, netns: Netns, default_sounds: Path
) -> AsyncIterator[tuple[Running, Any]]:
    """``tests.media.sip.sip_media_serving`` as a fixture: the server with the SIP switch and
    its speaking trunk."""
    from tests.media.sip import sip_media_serving

    async with sip_media_serving(tmp_path, netns, default_sounds) as both:
        yield both


@pytest.fixture
async def desk(sip_media: tuple[Running, Any], netns: Netns) -> AsyncIterator[tuple[Any, Any]]:
    """phone1 registered, a ``SipAudio`` saying 1 kHz (``AGENT_TONE``) at 0.3 of full scale
    (mixed with the caller's 0.5, as a monitoring supervisor hears them, it does not clip),
    and agent1 READY on it (an ``Operator``)."""
    from tests.media.sip import SipAudio, sip_address
    from tests.sip.helpers import agent

    server, _ = sip_media
    phone = await SipAudio.make("phone1", sip_address(server), netns.host_ip, AGENT_TONE, 0.3)
    op = await agent(server.url)  # (after the registration: READY on a registered phone)
    try:
        assert (await phone.register("phone1-secret")).code == 200
        yield phone, op
    finally:
        await op.__aexit__(None, None, None)
        phone.close()
