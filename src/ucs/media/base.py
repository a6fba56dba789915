"""The one small Protocol a media engine implements, in terms of what should be heard.

A call's audio is anchored in the engine: each party of the call (the far party, the agent's
side) is *connected* to it, either as a browser (WebRTC: an SDP offer in, an answer out) or as
plain RTP (an address in, the engine's address out). Muting a party silences what it says;
ending the call frees everything. Every method raises ``MediaError`` when the engine cannot do
it (not running, restarting, refused).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import shutil
from typing import Literal, NamedTuple, Protocol

from ucs.core.errors import MediaUnavailable

__all__ = [
    "Anchored",
    "Media",
    "MediaError",
    "NoMedia",
    "Party",
    "engine_command",
    "no_core_files",
    "run_tool",
    "stop_process",
]

Party = Literal["far", "agent", "supervisor", "coach-agent", "coach-supervisor"]
"""Which side of a call: the outside (or simulated) caller, the agent's side, a supervisor
listening to it (or barging in), and the two ends of a whisper (the supervisor heard by the
agent alone, through a second connection of each browser)."""


class Anchored(NamedTuple):
    """Where a SIP leg's audio is taken (the engine's address, or rtpengine's in front of
    it), and the payload type of the RFC 4733 key events read there (None: keys are read
    only when they come by SIP INFO)."""

    ip: str
    port: int
    dtmf: int | None = None


def engine_command() -> list[str]:
    """What an engine's command (Janus, rtpengine) begins with. The engine goes with the server
    even when the server is killed (kill -9): the kernel kills it when its parent dies
    (util-linux's setpriv sets that and execs). SIGKILL: after a SIGTERM Janus's clean
    shutdown hung for good now and then (2 of 3 servers killed while it started, on a loaded
    machine: "Leaving Janus requests handler thread", and nothing more), an orphan holding its
    ports; nobody is left to wait for it anyway. Run as root, the engine also loses the one
    capability that could lift ``no_core_files``'s limit."""
    if shutil.which("setpriv") is None:
        return []
    keep = ["--bounding-set", "-sys_resource"] if os.geteuid() == 0 else []
    return ["setpriv", "--pdeathsig", "KILL", *keep]


def no_core_files() -> None:
    """Run in an engine's child before it execs: it writes no core file. Janus lifts its own
    limit to unlimited as it starts, and one that crashed (it happened as a benchmark stopped
    it) wrote 5 GB into the server's working directory; a hard limit of 0 is one it cannot
    lift without ``CAP_SYS_RESOURCE`` (``engine_command``)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


async def run_tool(*command: str) -> tuple[int, bytes]:
    """Run a tool (espeak-ng, opusenc, sox, janus-pp-rec) to its end: its exit code and what
    it wrote to stderr. Cancelled (the server stopping), the tool is killed and waited for:
    none outlives the event loop that started it."""
    proc = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await proc.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    return int(proc.returncode or 0), err


async def stop_process(proc: asyncio.subprocess.Process | None, grace: float = 5.0) -> None:
    """Stop an engine's child process: SIGTERM, SIGKILL after ``grace`` seconds, waited for.
    None, or one that has ended already, is nothing to stop."""
    if proc is None or proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


class MediaError(MediaUnavailable):
    """The engine could not do what was asked; its wire code is ``MEDIA_UNAVAILABLE``."""


class Media(Protocol):
    @property
    def available(self) -> bool:
        """The engine is running and answers."""
        ...

    async def connect_browser(self, uniqueid: str, party: Party, offer: str) -> str:
        """Connect a WebRTC party (its SDP ``offer``) to the call; returns the SDP answer."""
        ...

    async def connect_rtp(
        self, uniqueid: str, party: Party, address: tuple[str, int], codec: str
    ) -> tuple[str, int]:
        """Connect a plain-RTP party sending from and listening on ``address`` with ``codec``
        (``pcmu``, ``pcma`` or ``opus``); returns where the engine listens for it."""
        ...

    async def mute(self, uniqueid: str, party: Party, muted: bool) -> None:
        """Silence (or no longer silence) what ``party`` says."""
        ...

    async def record(self, uniqueid: str, folder: str | None) -> None:
        """Record each party of the call into ``folder`` from now on (a file per party and
        stretch, named ``NNNN-<party>``), or stop (None): a pause, or the end."""
        ...

    async def leave(self, uniqueid: str, party: Party) -> None:
        """``party`` leaves the call's audio (a supervisor who stops listening)."""
        ...

    async def play(self, uniqueid: str, path: str, *, loop: bool, key: str) -> None:
        """Play the sound file at ``path`` to the call's parties (``key`` names it, to stop)."""
        ...

    async def stop_playing(self, uniqueid: str, key: str) -> None: ...

    async def hold(self, uniqueid: str, music: str | None) -> None:
        """The agent's side neither hears nor is heard; the far party hears ``music``."""
        ...

    async def unhold(self, uniqueid: str) -> None: ...

    async def end(self, uniqueid: str) -> None:
        """The call is over: free its audio. Ending a call the engine never saw is no error."""
        ...


class NoMedia:
    """No engine (``--media off``, or none installed): everything is ``MEDIA_UNAVAILABLE``."""

    available = False

    async def connect_browser(self, uniqueid: str, party: Party, offer: str) -> str:
        raise MediaError("no media engine is running")

    async def connect_rtp(
        self, uniqueid: str, party: Party, address: tuple[str, int], codec: str
    ) -> tuple[str, int]:
        raise MediaError("no media engine is running")

    async def mute(self, uniqueid: str, party: Party, muted: bool) -> None:
        raise MediaError("no media engine is running")

    async def record(self, uniqueid: str, folder: str | None) -> None:
        if folder is not None:
            raise MediaError("no media engine is running")

    async def leave(self, uniqueid: str, party: Party) -> None:
        return None

    async def play(self, uniqueid: str, path: str, *, loop: bool, key: str) -> None:
        raise MediaError("no media engine is running")

    async def stop_playing(self, uniqueid: str, key: str) -> None:
        return None

    async def hold(self, uniqueid: str, music: str | None) -> None:
        raise MediaError("no media engine is running")

    async def unhold(self, uniqueid: str) -> None:
        return None

    async def end(self, uniqueid: str) -> None:
        return None
