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
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ucs.core.effects import (
    Announce,
    CallbackTaken,
    CallRecord,
    Greet,
    Hold,
    Monitor,
    Mute,
    Record,
    Unhold,
    Unrecorded,
)
from ucs.core.events import Answered, Dtmf, Event, MediaStatus, Transferred
from ucs.core.ids import UniqueId
from ucs.core.softphone import is_softphone
from ucs.media.base import Anchored, MediaError, Party
from ucs.media.forwarding import ForwardingMedia
from ucs.media.g711 import tone
from ucs.media.janus import JanusMedia
from ucs.media.janus_api import JanusClient
from ucs.media.recorder import TOOLS, Recorder, RecordingError
from ucs.media.recorder import tools_installed as recording_tools_installed
from ucs.media.relay import Relay
from ucs.media.rtp import RtpPeer, local_address_towards
from ucs.media.sounds import SoundError, Sounds, tools_installed
from ucs.media.supervisor import Supervisor

__all__ = [
    "AUDIO",
    "CALLBACK_OFFER",
    "CALLBACK_TAKEN",
    "KEEP_HEARD",
    "UNRECORDED",
    "Conductor",
    "clip_of",
    "place_text",
    "wait_text",
]

log = logging.getLogger("ucs.media")

RETENTION_EVERY = 3600.0
"""Seconds between looks for recordings older than the retention."""
KEEP_HEARD = 200
"""Ended simulated calls whose heard audio is kept (about 1 MB each at most)."""
VOICE = "Hello, I am calling about my order. It has not arrived yet. Can you help me, please?"
"""What a simulated caller with ``"audio": "voice"`` says (and says again, after a second)."""
UNRECORDED = {
    "no_tools": "this server cannot make recordings (" + ", ".join(TOOLS) + " missing)",
    "no_audio": "no media engine runs, or the agent's phone is a desk phone whose call's "
    "audio could not be anchored in it",
}
"""Why an ``always`` call was not recorded (``Unrecorded.reason``), for the log."""
AUDIO = re.compile(r"^(tone:([0-9]{3,4})|voice)$")
"""What a simulated caller may say: ``tone:440`` (100–4000 Hz) or ``voice``."""


def clip_of(audio: str) -> bytes | None:
    """The μ-law clip a simulated caller loops for ``tone:N``; None for ``voice`` (spoken by
    espeak-ng, ``Sounds.mulaw``). ``ValueError`` for anything else."""
    match = AUDIO.match(audio)
    if match is None:
        raise ValueError(f"audio must be tone:<100-4000> or voice, not {audio!r}")
    if match.group(2) is not None:
        frequency = int(match.group(2))
        if not 100 <= frequency <= 4000:
            raise ValueError(f"a tone must be of 100 to 4000 Hz, not {frequency}")
        return tone(frequency)
    return None


@dataclass
class _Waiting:
    music: str | None
    task: asyncio.Task[None] | None = None


def place_text(place: int, language: str) -> str:
    if language == "cs":
        return f"Jste {place}. v pořadí."
    return f"You are number {place} in the queue."


CALLBACK_OFFER = {
    "en": "To be called back instead of waiting, press 1.",
    "cs": "Pokud chcete, abychom vám zavolali zpět, stiskněte jedničku.",
}
"""What a waiting caller is told when the queue's ``callback_offer`` is on."""
CALLBACK_TAKEN = {
    "en": "Thank you. We will call you back when it is your turn. Goodbye.",
    "cs": "Děkujeme. Zavoláme vám zpět, až na vás přijde řada. Na shledanou.",
}
"""What a caller who pressed 1 hears before the server hangs up."""


def _said(texts: dict[str, str], language: str) -> str:
    return texts.get(language, texts["en"])


def wait_text(minutes: int, language: str) -> str:
    if language == "cs":
        unit = "minuta" if minutes == 1 else "minuty" if 2 <= minutes <= 4 else "minut"
        return f"Předpokládaná doba čekání je asi {minutes} {unit}."
    return f"The expected wait is about {minutes} minute{'s' if minutes != 1 else ''}."


def _told(task: asyncio.Task[None]) -> None:
    """A request carried out after what awaited it was cancelled: its failure logged (with
    its trace when it is not the engine's refusal)."""
    if task.cancelled():
        return
    err = task.exception()
    if isinstance(err, (MediaError, SoundError, RecordingError)):
        log.warning("media: %s", err)
    elif err is not None:
        log.error("media: a request failed", exc_info=err)


class Conductor:
    def __init__(
        self,
        submit: Callable[[Event], object],
        caller_hangup: Callable[[UniqueId], Event],
        supervisor_of: Callable[[Conductor], Supervisor] | None,
        rtp_ip: str,
        sounds: Sounds,
        recorder: Recorder,
        retention_days: float = 0.0,
        phones: bool = False,
        relay_of: Callable[[Conductor], Relay] | None = None,
        forward: bool = False,
    ) -> None:
        self.phones = phones
        """The switch's phones' audio is anchored here (``--switch sip``): their calls are
        muted, held and recorded in the engine."""
        self.sounds = sounds
        self.recorder = recorder
        self.retention_days = retention_days
        """Recordings older than this many days are removed (0: kept)."""
        self.submit = submit
        self.caller_hangup = caller_hangup
        self.rtp_ip = rtp_ip
        self.supervisor = supervisor_of(self) if supervisor_of is not None else None
        self.relay = relay_of(self) if relay_of is not None else None
        """rtpengine in front of the room for SIP legs that send RFC 4733 keys (``relay.py``),
        and with ``forward`` for every SIP leg: a call that needs no mixing is forwarded leg
        to leg by it (``forwarding.py``)."""
        self.media = (
            ForwardingMedia(self.relay) if forward and self.relay is not None else JanusMedia()
        )
        self.callers: dict[str, RtpPeer] = {}
        self.waiting: dict[str, _Waiting] = {}
        """Calls whose caller hears the queue's sounds, and the sequence playing now."""
        self._greets: dict[str, Greet] = {}
        """Greetings decided before the call had audio (its caller joins just after)."""
        self._music: dict[str, str] = {}
        """The music of each call's queue, for hold."""
        self.heard: OrderedDict[str, RtpPeer] = OrderedDict()
        self.can_record = False
        """The tools that make recordings are installed: decided once, at ``start``."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._voice: bytes | None = None
        self._presses = 0
        """Keys played (each play of a key's tones has a name of its own)."""

    @property
    def available(self) -> bool:
        return self.media.available

    @property
    def forwarded_calls(self) -> int | None:
        """Calls rtpengine forwards leg to leg now; None when it forwards none (not the SIP
        switch, ``--media-relay keys`` or ``off``, or rtpengine missing)."""
        media = self.media
        return media.forwarded if isinstance(media, ForwardingMedia) else None

    # --- life ---------------------------------------------------------------------------------

    def start(self) -> None:
        self.can_record = recording_tools_installed()
        if self.supervisor is not None and not self.can_record:
            log.warning(
                "calls cannot be recorded: %s missing (make media-engine installs them); "
                "startRecording() answers MEDIA_UNAVAILABLE",
                " or ".join(TOOLS),
            )
        if self.supervisor is not None:
            self.supervisor.start()
            if self.relay is not None:
                self.relay.start()
            if tools_installed():  # made once, in the background: the engine starts meanwhile
                self._spawn(self._default_sounds())
        # Recordings a server that died left unfinished are finished now; old ones go.
        self.recorder.recover()
        self._spawn(self._retention())

    async def _retention(self) -> None:
        while self.retention_days > 0:
            try:
                await self.recorder.prune(self.retention_days, time.time())
            except Exception:  # the database is down: next hour
                log.exception("old recordings could not be removed")
            await asyncio.sleep(RETENTION_EVERY)

    async def _default_sounds(self) -> None:
        try:
            await self.sounds.ensure_defaults()
        except (SoundError, OSError) as err:
            log.warning("the default sounds could not be made: %s", err)

    async def stop(self) -> None:
        if self.relay is not None:
            await self.relay.stop()
        if self.supervisor is not None:
            await self.supervisor.stop()
        for peer in [*self.callers.values(), *self.heard.values()]:
            peer.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        # Waited for: a prompt or a recording being made kills its tool (run_tool) before the
        # server's loop closes, rather than leave it running past it.
        await asyncio.gather(*tasks, return_exceptions=True)

    def engine_up(self, client: JanusClient) -> None:
        self.media.up(client)
        self.submit(MediaStatus(True, recording=self.can_record, phones=self.phones))

    def engine_down(self, reason: str) -> None:
        lost = self.media.down()
        self.submit(MediaStatus(False))
        self._lost(lost)

    def relay_lost(self, uids: list[str]) -> None:
        """rtpengine failed: the calls it relayed lost a side's audio, and end."""
        self._lost([uid for uid in uids if self.media.has_call(uid)])

    def _lost(self, lost: list[str]) -> None:
        for uid in lost:
            if self.relay is not None:  # (its final record will find no audio to free)
                self._spawn(self.relay.drop(uid))
            peer = self.callers.pop(uid, None)
            if peer is not None:
                self._keep(uid, peer)
            try:  # its far party's audio is gone: the call ends, the agent is free again
                self.submit(self.caller_hangup(UniqueId(uid)))
            except Exception:
                log.exception("call %s could not be ended after the media engine failed", uid)

    # --- the call engine's steps -----------------------------------------------------------

    def observe(self, event: Event | None, effects: list[Any], seconds: float) -> None:
        if isinstance(event, Answered) and event.uniqueid in self.waiting:
            self._stop_waiting(event.uniqueid)
        if isinstance(event, Transferred) and self.media.has_call(event.uniqueid):
            self._spawn(self._handed_over(event.uniqueid))
        for effect in effects:
            if isinstance(effect, Mute) and (self.phones or is_softphone(effect.line)):
                if self.media.has_call(effect.uniqueid):
                    self._spawn(self.media.mute(effect.uniqueid, "agent", effect.muted))
            elif isinstance(effect, Greet):
                if effect.music:
                    self._music[effect.uniqueid] = effect.music
                if self.media.has_call(effect.uniqueid):
                    self._greet(effect)
                elif self.available:
                    self._greets[effect.uniqueid] = effect
            elif isinstance(effect, Announce) and (
                effect.uniqueid in self.waiting or self.media.has_call(effect.uniqueid)
            ):
                self._announce(effect)
            elif isinstance(effect, CallbackTaken) and (
                effect.uniqueid in self.waiting or self.media.has_call(effect.uniqueid)
            ):
                self._callback_taken(effect)
            elif isinstance(effect, Hold) and self.media.has_call(effect.uniqueid):
                self._spawn(self._hold(effect.uniqueid))
            elif isinstance(effect, Unhold) and self.media.has_call(effect.uniqueid):
                self._spawn(self.media.unhold(effect.uniqueid))
            elif isinstance(effect, Record):
                self._record(effect)
            elif isinstance(effect, Unrecorded):
                log.warning(
                    "call %s of queue %s is not recorded although its queue records always: %s",
                    effect.uniqueid,
                    effect.queue,
                    UNRECORDED.get(effect.reason, effect.reason),
                )
            elif isinstance(effect, Monitor) and self.media.has_call(effect.uniqueid):
                self._spawn(self._monitor(effect))
            elif isinstance(effect, CallRecord):
                self._call_record(effect)

    def _call_record(self, record: CallRecord) -> None:
        """A call's record: a recorded call's names its agents (a transferred call has more
        than one); the final one frees the call's audio and makes its recording."""
        uid = str(record.call.get("uniqueid"))
        if self.recorder.recorded(uid):
            self.recorder.note(uid, record.agents)
        if record.live:
            return
        self._greets.pop(uid, None)
        self._music.pop(uid, None)
        if uid in self.waiting:
            self._stop_waiting(uid)
        if (
            self.media.has_call(uid)
            or uid in self.callers
            or self._softphone(record)
            or self.recorder.recorded(uid)
        ):
            self._spawn(self._ended(uid))

    # --- what waiting callers hear ----------------------------------------------------------

    def _greet(self, greet: Greet) -> None:
        uid = greet.uniqueid
        greeting = self.sounds.path(greet.greeting, greet.language) if greet.greeting else None
        music = self.sounds.path(greet.music, greet.language) if greet.music else None
        for name, path in ((greet.greeting, greeting), (greet.music, music)):
            if name and path is None:
                log.warning("queue sound %r does not exist: not played to %s", name, uid)
        state = self.waiting[uid] = _Waiting(str(music) if music else None)

        async def run() -> None:
            prompts = [greeting] if greeting else []
            if greet.callback:
                offer = _said(CALLBACK_OFFER, greet.language)
                prompts.append(await self.sounds.spoken("callback-offer", offer, greet.language))
            await self._sequence(uid, prompts, state.music)

        state.task = self._spawn(run())

    def _announce(self, announce: Announce) -> None:
        # A queue may announce places without greeting or music: the caller waits in silence.
        state = self.waiting.setdefault(announce.uniqueid, _Waiting(None))
        if state.task is not None:
            state.task.cancel()
        texts = [(f"place-{announce.place}", place_text(announce.place, announce.language))]
        if announce.wait is not None:
            minutes = max(1, round(announce.wait / 60))
            texts.append((f"wait-{minutes}", wait_text(minutes, announce.language)))
        if announce.callback:
            texts.append(("callback-offer", _said(CALLBACK_OFFER, announce.language)))

        async def run() -> None:
            prompts = [await self.sounds.spoken(k, t, announce.language) for k, t in texts]
            await self._sequence(announce.uniqueid, prompts, state.music)

        state.task = self._spawn(run())

    def _callback_taken(self, taken: CallbackTaken) -> None:
        """The caller left a callback request: no more music, the confirmation (the core hangs
        up once it has been said)."""
        state = self.waiting.pop(taken.uniqueid, None)
        if state is not None and state.task is not None:
            state.task.cancel()
        text = _said(CALLBACK_TAKEN, taken.language)

        async def run() -> None:
            prompt = await self.sounds.spoken("callback-taken", text, taken.language)
            await self._sequence(taken.uniqueid, [prompt], None)

        self._spawn(run())

    async def _sequence(self, uid: str, prompts: list[Path], music: str | None) -> None:
        """Play ``prompts`` one after the other with the music paused, then the music."""
        if prompts:  # an announcement cut short by the next one stops too
            await self._whole(self.media.stop_playing(uid, "prompt"))
            await self._whole(self.media.stop_playing(uid, "music"))
        for prompt in prompts:
            await self._whole(self.media.play(uid, str(prompt), loop=False, key="prompt"))
            await asyncio.sleep(self.sounds.seconds(prompt) + 0.3)
        if music is not None:
            await self._whole(self.media.play(uid, music, loop=True, key="music"))

    async def _whole(self, request: Coroutine[Any, Any, None]) -> None:
        """Carry ``request`` (to the engine) out whole, even when what awaits it is cancelled
        (a caller's announcements cut short by the next, or by an agent): cut between its
        steps, it could leave the engine with a room ucs knows nothing of (made, not yet
        noted) or a participant moved without ucs knowing. What follows it waits for it (each
        call's requests take turns)."""
        task = asyncio.get_running_loop().create_task(request)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(_told)  # (no one awaits it now)
            raise

    def _stop_waiting(self, uid: str) -> None:
        state = self.waiting.pop(uid)
        if state.task is not None:
            state.task.cancel()

        async def stop() -> None:
            await self.media.stop_playing(uid, "prompt")
            await self.media.stop_playing(uid, "music")

        if self.media.has_call(uid):
            self._spawn(stop())

    async def _hold(self, uid: str) -> None:
        music = self.sounds.path(self._music.get(uid) or "music") or self.sounds.path("music")
        await self.media.hold(uid, str(music) if music is not None else None)

    @staticmethod
    def _softphone(record: CallRecord) -> bool:
        """A softphone was on the call: its browser may still be connecting to it."""
        channels = (record.call.get("caller_channel"), record.call.get("connected_channel"))
        return any(isinstance(c, str) and c.startswith("WebRTC/") for c in channels)

    def _record(self, record: Record) -> None:
        """Record the call's parties into its parts folder, or pause. The folder is made at
        once, so that the call's records of the same step name their agents in it."""
        folder = None
        if record.on:
            try:
                folder = str(self.recorder.begin(record.uniqueid, record.agent, record.queue))
            except (RecordingError, OSError) as err:
                log.warning("call %s cannot be recorded: %s", record.uniqueid, err)
                return
        self._spawn(self.media.record(record.uniqueid, folder))

    async def _handed_over(self, uid: str) -> None:
        """A transfer was carried out: the agent who transferred leaves the call's audio, and
        a call that waited on hold (an attended transfer) is taken off it: the music stops
        and its recording goes on. The new agent's softphone joins as the agent's side."""
        await self.media.leave(uid, "agent")
        await self.media.unhold(uid)

    async def _monitor(self, monitor: Monitor) -> None:
        """A supervisor listens (muted), barges in (heard), whispers (muted in the call's room,
        heard by the agent in its coach room, whose connections the browsers make, or where a
        desk phone's agent is moved), or leaves the call's audio."""
        uid = monitor.uniqueid
        if monitor.mode != "whisper":  # the whisper's two connections go
            await self.media.leave(uid, "coach-supervisor")
            await self.media.leave(uid, "coach-agent")
        # A desk phone's agent is bridged into the coach room (it has no second connection).
        await self.media.coach_rtp(uid, monitor.mode == "whisper")
        if monitor.mode is None:
            await self.media.leave(uid, "supervisor")
        else:  # whispering, the supervisor still hears both sides, heard in the coach room
            await self.media.mute(uid, "supervisor", monitor.mode != "barge")

    async def _ended(self, uid: str) -> None:
        peer = self.callers.pop(uid, None)
        if peer is not None:
            self._keep(uid, peer)
        try:
            if self.relay is not None:
                await self.relay.drop(uid)
            await self.media.end(uid)
        finally:
            if self.recorder.recorded(uid):  # its files are closed: the WAV is made now
                self.recorder.finish(uid)

    def _keep(self, uid: str, peer: RtpPeer) -> None:
        peer.close()
        self.heard[uid] = peer
        while len(self.heard) > KEEP_HEARD:
            self.heard.popitem(last=False)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        async def run() -> None:
            try:
                await work
            except (MediaError, SoundError, RecordingError) as err:
                log.warning("media: %s", err)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- what the simulator and the operator protocol ask ----------------------------------

    async def speak(self, uid: str, audio: str) -> None:
        """The simulated caller of ``uid`` says ``audio`` into the call from now on."""
        clip = clip_of(audio)
        if not self.available:
            raise MediaError("no media engine is running")
        if clip is None:
            if self._voice is None:
                try:
                    self._voice = await self.sounds.mulaw(VOICE, "en") + b"\xff" * 8000
                except (SoundError, OSError) as err:
                    raise MediaError(f"the simulated voice could not be made: {err}") from err
            clip = self._voice
        host = local_address_towards(self.rtp_ip)
        peer = await RtpPeer.bind(host, clip)
        try:
            remote = await self.media.connect_rtp(uid, "far", peer.address, "pcmu")
        except MediaError:
            peer.close()
            raise
        peer.start(remote)
        self.callers[uid] = peer
        self._heard_from_now(uid)

    async def connect_far(self, uid: str, address: tuple[str, int]) -> tuple[str, int]:
        """The simulated caller of ``uid`` is a plain RTP peer (G.711 μ-law) at ``address``
        of its own (a load generator, as a SIP leg would be): joined to the call's audio;
        returns where the engine takes its RTP."""
        if not self.available:
            raise MediaError("no media engine is running")
        remote = await self.media.connect_rtp(uid, "far", address, "pcmu")
        self._heard_from_now(uid)
        return remote

    async def connect_sip(
        self, uid: str, party: str, address: tuple[str, int], codec: str, dtmf: int | None = None
    ) -> Anchored:
        """A SIP leg's audio (``--switch sip``) joins the call's room as ``party`` (``far``,
        ``agent``, or ``supervisor``: a supervisor's desk phone, muted unless barging);
        returns the address for it, which the leg's SDP then names. A leg that sends its
        keys as RFC 4733 events (payload type ``dtmf``) goes through rtpengine when it runs,
        which reads them (``Anchored.dtmf`` says so). The far party's joining starts what its
        queue plays (a greeting decided before)."""
        if not self.available:
            raise MediaError("no media engine is running")
        sides: dict[str, Party] = {"far": "far", "agent": "agent", "supervisor": "supervisor"}
        side = sides.get(party)
        if side is None:
            raise MediaError(
                f"a SIP leg is the far party, the agent's side or a supervisor, not {party!r}"
            )

        room_side: list[tuple[str, int]] = []
        forwarding = self.media if isinstance(self.media, ForwardingMedia) else None

        async def join(at: tuple[str, int]) -> tuple[str, int]:
            room_side[:] = [at]
            if forwarding is not None:  # rtpengine, not the room, records the party
                return await forwarding.connect_rtp(uid, side, at, codec, relayed=True)
            return await self.media.connect_rtp(uid, side, at, codec)

        relay = self.relay
        relayed = dtmf is not None or forwarding is not None
        if relayed and side != "supervisor" and relay is not None and relay.available:
            payload = 8 if codec == "pcma" else 0
            ip, port = await relay.anchor(uid, side, address, payload, dtmf, join)
            anchored = Anchored(ip, port, dtmf)
            if forwarding is not None:
                await forwarding.relayed(uid, side, room_side[0], codec)
        else:
            anchored = Anchored(*await join(address))
        if side == "far":
            self._heard_from_now(uid)
        return anchored

    def relay_key(self, uid: str, party: str, key: str) -> None:
        """A relayed leg's phone pressed ``key`` (an RFC 4733 event): the far party's keys
        go to the core (a callback asked for, an IVR choice), the agent's are played to the
        far party, as when they come by SIP INFO."""
        if party == "far":
            self.submit(Dtmf(UniqueId(uid), key))
        elif party == "agent" and self.media.has_call(uid):
            self._spawn(self.press(uid, key))

    async def press(self, uid: str, key: str) -> None:
        """The agent's desk phone pressed ``key`` (SIP INFO) on an anchored call: its tones
        are played into the call's room, for the far party (``keypad.py``)."""
        if not self.media.has_call(uid):
            raise MediaError(f"call {uid} has no audio")
        path = await self.sounds.key(key)
        self._presses += 1
        await self.media.play(uid, str(path), loop=False, key=f"key-{self._presses}")

    def _heard_from_now(self, uid: str) -> None:
        """The call's far party has audio now: a greeting decided before it plays."""
        greet = self._greets.pop(uid, None)
        if greet is not None:
            self._greet(greet)

    def heard_wav(self, uid: str) -> bytes | None:
        """What the simulated caller of ``uid`` heard (live or ended), as WAV; None if none."""
        peer = self.callers.get(uid) or self.heard.get(uid)
        return peer.heard_wav() if peer is not None else None

    async def connect_softphone(self, uid: str, offer: str, party: Party = "agent") -> str:
        """The agent's (or a monitoring supervisor's) browser joins the call's audio; returns
        the SDP answer."""
        return await self.media.connect_browser(uid, party, offer)
