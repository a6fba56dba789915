"""What must be heard, from what the core decided: the adapter between the engine of calls
(``ucs.runtime.Engine``) and the media engine (``Media``).

It watches each step of the call engine (an observer): a softphone's ``Mute`` silences the
agent's side in the media engine, a finished call frees its audio. It starts and supervises the
media engine and tells the core whether media is available (``MediaStatus``); when the engine
fails, the calls that had audio on it end (their far party is gone), so that no agent is left
on a call nobody hears. It owns the simulator's speaking callers (``RtpPeer``) and keeps what
each heard after its call ended (the last ``KEEP_HEARD`` calls).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from ucs.core.effects import CallRecord, Hold, Mute, Unhold
from ucs.core.events import Event, MediaStatus
from ucs.core.ids import UniqueId
from ucs.core.softphone import is_softphone
from ucs.media.base import MediaError
from ucs.media.g711 import tone
from ucs.media.janus import JanusMedia
from ucs.media.janus_api import JanusClient
from ucs.media.rtp import RtpPeer, local_address_towards
from ucs.media.sounds import SoundError, Sounds, tools_installed
from ucs.media.supervisor import Supervisor

__all__ = ["AUDIO", "KEEP_HEARD", "Conductor", "clip_of"]

log = logging.getLogger("ucs.media")

KEEP_HEARD = 200
"""Ended simulated calls whose heard audio is kept (about 1 MB each at most)."""
AUDIO = re.compile(r"^(tone:([0-9]{3,4})|voice)$")
"""What a simulated caller may say: ``tone:440`` (100–4000 Hz) or ``voice``."""


def clip_of(audio: str) -> bytes:
    """The μ-law clip a simulated caller loops. ``voice`` is a sweep of speech-band tones
    until spoken prompts are made at build time (docs/media.md)."""
    match = AUDIO.match(audio)
    if match is None:
        raise ValueError(f"audio must be tone:<100-4000> or voice, not {audio!r}")
    if match.group(2) is not None:
        frequency = int(match.group(2))
        if not 100 <= frequency <= 4000:
            raise ValueError(f"a tone must be of 100 to 4000 Hz, not {frequency}")
        return tone(frequency)
    return b"".join(tone(f, 0.2) for f in (300, 500, 700, 500, 400, 600))


class Conductor:
    def __init__(
        self,
        submit: Callable[[Event], object],
        caller_hangup: Callable[[UniqueId], Event],
        supervisor_of: Callable[[Conductor], Supervisor] | None,
        rtp_ip: str,
        sounds: Sounds,
    ) -> None:
        self.media = JanusMedia()
        self.sounds = sounds
        self.submit = submit
        self.caller_hangup = caller_hangup
        self.rtp_ip = rtp_ip
        self.supervisor = supervisor_of(self) if supervisor_of is not None else None
        self.callers: dict[str, RtpPeer] = {}
        self.heard: OrderedDict[str, RtpPeer] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def available(self) -> bool:
        return self.media.available

    # --- life ---------------------------------------------------------------------------------

    def start(self) -> None:
        if self.supervisor is not None:
            self.supervisor.start()
            if tools_installed():  # made once, in the background: the engine starts meanwhile
                self._spawn(self._default_sounds())

    async def _default_sounds(self) -> None:
        try:
            await self.sounds.ensure_defaults()
        except (SoundError, OSError) as err:
            log.warning("the default sounds could not be made: %s", err)

    async def stop(self) -> None:
        if self.supervisor is not None:
            await self.supervisor.stop()
        for peer in [*self.callers.values(), *self.heard.values()]:
            peer.close()
        for task in list(self._tasks):
            task.cancel()

    def engine_up(self, client: JanusClient) -> None:
        self.media.up(client)
        self.submit(MediaStatus(True))

    def engine_down(self, reason: str) -> None:
        lost = self.media.down()
        self.submit(MediaStatus(False))
        for uid in lost:
            peer = self.callers.pop(uid, None)
            if peer is not None:
                self._keep(uid, peer)
            try:  # its far party's audio is gone: the call ends, the agent is free again
                self.submit(self.caller_hangup(UniqueId(uid)))
            except Exception:
                log.exception("call %s could not be ended after the media engine failed", uid)

    # --- the call engine's steps -----------------------------------------------------------

    def observe(self, event: Event | None, effects: list[Any], seconds: float) -> None:
        for effect in effects:
            if isinstance(effect, Mute) and is_softphone(effect.line):
                if self.media.has_call(effect.uniqueid):
                    self._spawn(self.media.mute(effect.uniqueid, "agent", effect.muted))
            elif isinstance(effect, Hold) and self.media.has_call(effect.uniqueid):
                self._spawn(self._hold(effect.uniqueid))
            elif isinstance(effect, Unhold) and self.media.has_call(effect.uniqueid):
                self._spawn(self.media.unhold(effect.uniqueid))
            elif isinstance(effect, CallRecord) and not effect.live:
                uid = str(effect.call.get("uniqueid"))
                if self.media.has_call(uid) or uid in self.callers:
                    self._spawn(self._ended(uid))

    async def _hold(self, uid: str) -> None:
        music = self.sounds.path("music")
        await self.media.hold(uid, str(music) if music is not None else None)

    async def _ended(self, uid: str) -> None:
        peer = self.callers.pop(uid, None)
        if peer is not None:
            self._keep(uid, peer)
        await self.media.end(uid)

    def _keep(self, uid: str, peer: RtpPeer) -> None:
        peer.close()
        self.heard[uid] = peer
        while len(self.heard) > KEEP_HEARD:
            self.heard.popitem(last=False)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        async def run() -> None:
            try:
                await work
            except MediaError as err:
                log.warning("media: %s", err.message)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- what the simulator and the operator protocol ask ----------------------------------

    async def speak(self, uid: str, audio: str) -> None:
        """The simulated caller of ``uid`` says ``audio`` into the call from now on."""
        clip = clip_of(audio)
        if not self.available:
            raise MediaError("no media engine is running")
        host = local_address_towards(self.rtp_ip)
        peer = await RtpPeer.bind(host, clip)
        try:
            remote = await self.media.connect_rtp(uid, "far", peer.address, "pcmu")
        except MediaError:
            peer.close()
            raise
        peer.start(remote)
        self.callers[uid] = peer

    def heard_wav(self, uid: str) -> bytes | None:
        """What the simulated caller of ``uid`` heard (live or ended), as WAV; None if none."""
        peer = self.callers.get(uid) or self.heard.get(uid)
        return peer.heard_wav() if peer is not None else None

    async def connect_softphone(self, uid: str, offer: str) -> str:
        """The agent's browser joins the call's audio; returns the SDP answer."""
        return await self.media.connect_browser(uid, "agent", offer)
