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
from typing import Literal, NamedTuple, Protocol

from ucs.core.errors import MediaUnavailable

__all__ = ["Anchored", "Media", "MediaError", "NoMedia", "Party", "run_tool", "stop_process"]

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
