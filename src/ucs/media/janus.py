"""``Media`` on Janus: every call's audio is anchored in an AudioBridge room of its own (a
caller waiting with music waits in a room shared by every caller waiting with that music).

Parties join the room as WebRTC participants (the agent's browser; its SDP travels over the
operator protocol, never browser to Janus) or as plain-RTP participants (the simulator's
callers, SIP legs). The room mixes: each party hears the others. Mute is the participant's
``muted``. Requests about one call are carried out in order (a lock per call).

Every room has forwarding groups (``GROUPS``: they choose what an RTP forwarder carries, never
what a participant hears). A whisper to a plain-RTP agent (a desk phone, whose one stream
cannot open a coach connection of its own) uses them (``coach_rtp``): the agent's participant
moves to the call's coach room, where the whispering supervisor speaks; the call room's
group ``far`` (the caller alone) is forwarded to a send-only participant of the coach room,
and the coach room's group ``agent`` back to one of the call room. A plain-RTP participant
joined without an address takes RTP from any source (Janus ``connect()``s its socket only to
an address given), so the forwarders reach it; the audio never leaves Janus.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from ucs.media.base import MediaError, Party
from ucs.media.janus_api import JanusClient

__all__ = ["JanusMedia"]

log = logging.getLogger("ucs.media")

ENDED_KEPT = 10_000
"""Ended calls remembered (``_ended``): some 100 bytes each."""
GROUPS = ("far", "agent", "supervisor", "other")
"""The forwarding groups of every room: the caller, the agent's side, a supervisor, anything
else."""
HOLD = "hold"
"""The key of the music played to a held party."""
MUSIC = "music"
"""The key of the music a waiting caller hears: in a room that every caller waiting with the
same music shares (``_to_music``), where it is mixed once for all of them."""
SAMPLING_RATE = 8000
"""The rooms mix at 8 kHz, the far party's (G.711) rate: at 16 kHz Janus up-samples a G.711
leg without filtering its image, and the agent heard a caller's 440 Hz with a 7560 Hz whine
(a quarter of the power; measured, docs/media.md)."""


def _group(party: str) -> str:
    return party if party in ("far", "agent", "supervisor") else "other"


@dataclass
class _Bridge:
    """A whisper with a desk phone on either side: what was added for it (``coach_rtp``)."""

    injectors: list[int] = field(default_factory=list)
    """The handles of the send-only participants fed by the forwarders."""
    forwarders: list[tuple[int, int]] = field(default_factory=list)
    """The forwarders, each as its room and stream id."""
    agent_moved: bool = False
    """The agent's desk phone was moved into the coach room."""
    supervisor_room: int | None = None
    """Where the supervisor's desk phone speaks while whispering (the coach room, or, to a
    browser agent, a room of its own fed the call); None: the supervisor's browser."""


@dataclass
class _Room:
    id: int
    handles: dict[Party, int] = field(default_factory=dict)
    muted: dict[Party, bool] = field(default_factory=dict)
    parking: int | None = None
    """A silent room of the call where the agent's browser waits while the call is held."""
    coach: int | None = None
    """A room of the call where a whispering supervisor is heard by the agent alone."""
    whisper: int | None = None
    """A room of the call where a supervisor's desk phone whispers to a browser agent from."""
    held: bool = False
    parked: int | None = None
    """The agent's handle moved to the parking room by the hold (a new one, joined since,
    is in the call's room already)."""
    record_to: str | None = None
    """While the call is recorded (or held while recorded): the folder its parties'
    recordings go to (the room's ``.mjr`` files, and rtpengine's notes of the legs it records
    for ``elsewhere``)."""
    files: int = 0
    """Recording files started in the room: each part's name is new, never overwritten."""
    elsewhere: set[Party] = field(default_factory=set)
    """The parties whose recording another engine makes (a leg rtpengine relays records
    there: ``ucs.media.forwarding``); the room records the others."""
    rtp: set[Party] = field(default_factory=set)
    """The parties joined as plain RTP (the far party, a desk phone)."""
    bridge: _Bridge | None = None
    """A whisper to the plain-RTP agent going on: the agent is in the coach room."""
    waiting: int | None = None
    """The shared music room the far party waits in (muted); None: it is in the call's."""
    made: bool = True
    """The call's own room is in the engine. A caller waiting in a shared music room, alone
    in its call, has none (a room costs its threads even empty): made again when it comes
    back (``_from_music``)."""
    vacant: bool = False
    """The call's rooms are gone from the engine while its audio is forwarded elsewhere
    (``vacate``): the next request about it makes its room again."""

    @property
    def agent_room(self) -> int:
        """Where the agent's participant belongs when not held: the coach room while a
        supervisor whispers to a plain-RTP agent, else the call's room."""
        moved = self.bridge is not None and self.bridge.agent_moved
        return self.coach if moved and self.coach is not None else self.id

    def record_body(self, party: Party) -> dict[str, object]:
        """What a ``join`` or ``configure`` of ``party`` adds to record it (nothing when the
        call is not being recorded)."""
        if self.record_to is None or party not in ("far", "agent") or party in self.elsewhere:
            return {}  # (the call's two sides only, each recorded by one engine)
        if self.held:  # nothing said on hold is recorded: the stretch begins at the unhold
            return {}
        self.files += 1
        return {"record": True, "filename": f"{self.record_to}/{self.files:04d}-{party}"}


class JanusMedia:
    def __init__(self) -> None:
        self.client: JanusClient | None = None
        self._rooms: dict[str, _Room] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._ids = itertools.count(1)
        self._manager: int | None = None
        self._music: dict[str, int] = {}
        """The shared music rooms: each file looped in one room, for every caller waiting
        with it (a room mixes every 20 ms and decodes its file: once, not once a caller)."""
        self._ended: OrderedDict[str, None] = OrderedDict()
        """Calls whose audio was freed lately: a late request never makes them a room again."""

    # --- the supervisor's side -------------------------------------------------------------

    def up(self, client: JanusClient) -> None:
        self.client, self._manager = client, None
        self._rooms.clear()
        self._music.clear()

    def down(self) -> list[str]:
        """The engine failed: every room is gone. Returns the calls that had audio."""
        self.client, self._manager = None, None
        calls = list(self._rooms)
        self._rooms.clear()
        self._music.clear()
        return calls

    @property
    def available(self) -> bool:
        return self.client is not None and not self.client.closed.is_set()

    def has_call(self, uniqueid: str) -> bool:
        return uniqueid in self._rooms

    def ended(self, uniqueid: str) -> bool:
        """Whether the call's audio was freed lately (``end``)."""
        return uniqueid in self._ended

    def forwardable(self, uniqueid: str) -> bool:
        """Whether the call's room only joins its two sides, plain RTP both, with nothing
        else to do: no one muted, held, recorded by the room, monitored or waiting with the
        music, and no other room of the call in use (what the room does then, forwarding, another
        engine can do: ``ucs.media.forwarding``)."""
        room = self._rooms.get(uniqueid)
        return (
            room is not None
            and not room.vacant
            and room.handles.keys() == {"far", "agent"}
            and room.rtp >= {"far", "agent"}
            and not any(room.muted.values())
            and not room.held
            and (room.record_to is None or room.elsewhere >= {"far", "agent"})
            and room.bridge is None
            and room.waiting is None
        )

    async def vacate(self, uniqueid: str) -> None:
        """The call's audio no longer goes through its rooms: its participants leave and its
        rooms are destroyed (a room's threads cost the engine whether anyone speaks or not),
        what the call's room knows is kept, and the next request makes the room again."""
        async with self._lock(uniqueid):
            room, client = self._rooms.get(uniqueid), self.client
            if room is None or client is None or room.vacant:
                return
            handles = list(room.handles.values())
            room.handles.clear()
            room.rtp.clear()
            rooms = [r for r in (room.id, room.parking, room.coach, room.whisper) if r]
            room.parking = room.coach = room.whisper = None
            room.vacant = True
            for handle in handles:
                await client.detach(handle)
            for room_id in rooms:
                await self._destroy(client, uniqueid, room_id)

    # --- Media -------------------------------------------------------------------------------

    async def connect_browser(self, uniqueid: str, party: Party, offer: str) -> str:
        async with self._lock(uniqueid):
            client, room = await self._room(uniqueid)
            await self._from_music(client, room, uniqueid)
            target = room.id
            if party.startswith("coach-"):  # a whisper: the agent hears the supervisor alone
                if room.coach is None:
                    room.coach = next(self._ids)
                    await self._create(client, room.coach, f"{uniqueid[:56]} coach")
                target = room.coach
            handle = await self._join(client, room, party)
            body = {"request": "join", "room": target, "display": party, "codec": "opus"}
            body["group"] = _group(party)
            room.rtp.discard(party)
            # A supervisor is heard by nobody until barging in (told before it connects); in
            # the coach room the agent is muted (the supervisor hears them in the call's room).
            quiet = party in ("supervisor", "coach-agent")
            body["muted"] = room.muted.get(party, quiet)
            body.update(room.record_body(party))
            _, jsep = await client.message(handle, body, {"type": "offer", "sdp": offer})
            if not jsep or "sdp" not in jsep:
                raise MediaError("the media engine gave no SDP answer")
            return str(jsep["sdp"])

    async def connect_rtp(
        self, uniqueid: str, party: Party, address: tuple[str, int], codec: str
    ) -> tuple[str, int]:
        async with self._lock(uniqueid):
            client, room = await self._room(uniqueid)
            if party != "far":
                await self._from_music(client, room, uniqueid)
            handle = await self._join(client, room, party)
            target = room.id
            if party == "agent" and room.held and room.parking is not None:
                # A held call's agent joining again (a phone at a new address) waits parked.
                target, room.parked = room.parking, handle
            waiting = party == "far" and room.waiting is not None
            if waiting:  # a waiting caller at a new address waits on with the music
                target = room.waiting or target
            body = {
                "request": "join",
                "room": target,
                "display": party,
                "codec": codec,
                "group": _group(party),
                # A supervisor's desk phone is heard by nobody until barging in.
                "muted": waiting or room.muted.get(party, party == "supervisor"),
                "rtp": {"ip": address[0], "port": address[1]},
                **room.record_body(party),
            }
            data, _ = await client.message(handle, body)
            room.rtp.add(party)
            return _address(data)

    async def mute(self, uniqueid: str, party: Party, muted: bool) -> None:
        async with self._lock(uniqueid):
            room = self._rooms.get(uniqueid)
            if room is None:
                raise MediaError(f"call {uniqueid} has no audio")
            room.muted[party] = muted
            handle = room.handles.get(party)
            if party == "supervisor" and room.bridge and room.bridge.supervisor_room is not None:
                return  # whispering from a desk phone, heard in the whisper's room: later
            if party == "far" and room.waiting is not None:
                return  # heard by no other caller waiting: back in its room, as asked
            if handle is not None and self.client is not None:
                await self.client.message(handle, {"request": "configure", "muted": muted})

    async def leave(self, uniqueid: str, party: Party) -> None:
        async with self._lock(uniqueid):
            room = self._rooms.get(uniqueid)
            handle = room.handles.pop(party, None) if room is not None else None
            if room is not None:
                room.muted.pop(party, None)
                room.rtp.discard(party)
                if party == "far":
                    room.waiting = None
            if handle is not None and self.client is not None:
                await self.client.detach(handle)

    async def record(self, uniqueid: str, folder: str | None) -> None:
        async with self._lock(uniqueid):
            client, room = await self._room(uniqueid)
            if (room.record_to is not None) == (folder is not None):
                return
            room.record_to = folder
            if room.held:  # its files were closed at the hold; the next begin at the unhold
                return
            for party, handle in room.handles.items():
                body: dict[str, object] = {"request": "configure"}
                body.update(room.record_body(party) if folder else {"record": False})
                await client.message(handle, body)

    async def play(self, uniqueid: str, path: str, *, loop: bool, key: str) -> None:
        async with self._lock(uniqueid):
            client, room = await self._room(uniqueid)
            if key == MUSIC and loop and room.handles.keys() == {"far"} and "far" in room.rtp:
                await self._to_music(client, room, path, uniqueid)
            else:  # (a sound for this call alone: never in a shared music room)
                await self._from_music(client, room, uniqueid)
                await self._play(client, room.id, path, loop=loop, key=key)

    async def stop_playing(self, uniqueid: str, key: str) -> None:
        async with self._lock(uniqueid):
            room = self._rooms.get(uniqueid)
            if room is not None and self.client is not None:
                if key == MUSIC and room.waiting is not None:
                    await self._from_music(self.client, room, uniqueid)
                else:
                    await self._stop(self.client, room, key)

    async def hold(self, uniqueid: str, music: str | None) -> None:
        async with self._lock(uniqueid):
            client, room = await self._room(uniqueid)
            if room.held:
                return
            await self._from_music(client, room, uniqueid)
            room.held = True
            if room.record_to is not None:  # neither side is recorded while held
                await self._close_files(client, room)
            handle = room.handles.get("agent")
            if handle is not None:  # the agent's browser waits in a silent room of its own
                if room.parking is None:
                    room.parking = next(self._ids)
                    await self._create(client, room.parking, f"{uniqueid[:56]} parked")
                body = {"request": "changeroom", "room": room.parking, "group": "agent"}
                await client.message(handle, body)
                room.parked = handle
            if music is not None:
                await self._play(client, room.id, music, loop=True, key=HOLD)

    async def unhold(self, uniqueid: str) -> None:
        async with self._lock(uniqueid):
            room = self._rooms.get(uniqueid)
            client = self.client
            if room is None or client is None or not room.held:
                return
            room.held = False
            await self._stop(client, room, HOLD)
            handle = room.handles.get("agent")
            parked, room.parked = room.parked, None
            if handle is not None and handle == parked:
                await self._move(client, room, handle, "agent", room.agent_room, record=False)
            if room.record_to is not None:  # recorded again from here, in new files
                for party, handle in room.handles.items():
                    files = room.record_body(party)
                    if files:
                        await client.message(handle, {"request": "configure", **files})

    async def end(self, uniqueid: str) -> None:
        self._ended[uniqueid] = None
        while len(self._ended) > ENDED_KEPT:
            self._ended.popitem(last=False)
        async with self._lock(uniqueid):
            room = self._rooms.pop(uniqueid, None)
            client = self.client
            if room is not None and client is not None:
                for injector in room.bridge.injectors if room.bridge is not None else []:
                    await client.detach(injector)
                for handle in room.handles.values():
                    if room.record_to is not None:  # its recording files are closed whole
                        try:
                            await client.message(handle, {"request": "configure", "record": False})
                        except MediaError as err:
                            log.warning("recording of %s not closed: %s", uniqueid, err)
                    await client.detach(handle)
                main = None if room.vacant or not room.made else room.id
                for room_id in (main, room.parking, room.coach, room.whisper):
                    if room_id is not None:
                        await self._destroy(client, uniqueid, room_id)
        self._locks.pop(uniqueid, None)

    async def _destroy(self, client: JanusClient, uniqueid: str, room: int) -> None:
        if self._manager is None:
            return
        try:
            await client.message(self._manager, {"request": "destroy", "room": room})
        except MediaError as err:
            log.warning("room of %s not destroyed: %s", uniqueid, err)

    async def coach_rtp(self, uniqueid: str, on: bool) -> None:
        """A supervisor whispers (``on``) to the call's agent, or no longer does. Two
        browsers need nothing here (each opens its coach connection). A desk phone, with one
        stream, is bridged (the module's docstring): a desk phone's agent moves into the coach
        room, fed the caller, and is heard in the call's room; a supervisor's desk phone
        speaks from the coach room (to a desk phone's agent) or from a room of its own fed
        the call's mix, forwarded into the coach room (to a browser agent)."""
        async with self._lock(uniqueid):
            room, client = self._rooms.get(uniqueid), self.client
            if room is None or client is None or on == (room.bridge is not None):
                return
            if on and room.rtp & {"agent", "supervisor"}:
                await self._bridge(client, uniqueid, room)
            elif not on:
                await self._unbridge(client, room)

    async def _bridge(self, client: JanusClient, uniqueid: str, room: _Room) -> None:
        if room.coach is None:
            room.coach = next(self._ids)
            await self._create(client, room.coach, f"{uniqueid[:56]} coach")
        bridge = room.bridge = _Bridge()
        if "agent" in room.rtp:
            await self._link(client, bridge, room.id, "far", room.coach, "caller")
            await self._link(client, bridge, room.coach, "agent", room.id, "agent-voice")
            bridge.agent_moved = True
            handle = room.handles.get("agent")
            if handle is not None and not room.held:  # (held: the unhold takes it there)
                await self._move(client, room, handle, "agent", room.coach)
            bridge.supervisor_room = room.coach
        else:
            if room.whisper is None:
                room.whisper = next(self._ids)
                await self._create(client, room.whisper, f"{uniqueid[:56]} whisper")
            await self._link(client, bridge, room.id, None, room.whisper, "call")
            await self._link(client, bridge, room.whisper, "supervisor", room.coach, "coach")
            bridge.supervisor_room = room.whisper
        handle = room.handles.get("supervisor")
        if "supervisor" not in room.rtp or handle is None:
            bridge.supervisor_room = None  # the supervisor's browser, in the coach room
        else:
            await self._move(client, room, handle, "supervisor", bridge.supervisor_room)

    async def _unbridge(self, client: JanusClient, room: _Room) -> None:
        bridge, room.bridge = room.bridge, None
        if bridge is None:
            return
        handle = room.handles.get("agent")
        if bridge.agent_moved and handle is not None and not room.held:
            await self._move(client, room, handle, "agent", room.id)
        handle = room.handles.get("supervisor")
        if bridge.supervisor_room is not None and handle is not None:
            await self._move(client, room, handle, "supervisor", room.id)
        for room_id, stream in bridge.forwarders:
            try:
                body = {"request": "stop_rtp_forward", "room": room_id, "stream_id": stream}
                await client.message(self._manager or 0, body)
            except MediaError as err:
                log.warning("a whisper's forwarder not stopped: %s", err)
        for injector in bridge.injectors:
            await client.detach(injector)

    async def _link(
        self,
        client: JanusClient,
        bridge: _Bridge,
        source: int,
        group: str | None,
        target: int,
        display: str,
    ) -> None:
        """Make ``source``'s ``group`` (None: its whole mix) heard in ``target``: a forwarder
        into a send-only participant there."""
        injector, address = await self._injector(client, target, display)
        bridge.injectors.append(injector)
        stream = await self._forward(client, source, group, address)
        bridge.forwarders.append((source, stream))

    async def _injector(
        self, client: JanusClient, room: int, display: str
    ) -> tuple[int, tuple[str, int]]:
        """A send-only plain-RTP participant of ``room`` (no address: it takes RTP from any
        source, a forwarder's): its handle and where it takes its RTP."""
        handle = await client.attach()
        body = {"request": "join", "room": room, "display": display, "codec": "pcmu"}
        body.update({"group": "other", "rtp": {}})
        data, _ = await client.message(handle, body)
        return handle, _address(data)

    async def _forward(
        self, client: JanusClient, room: int, group: str | None, to: tuple[str, int]
    ) -> int:
        """Forward the mix of ``room``'s ``group`` (None: all) to ``to`` (μ-law); the
        forwarder's id."""
        body: dict[str, object] = {"request": "rtp_forward", "room": room, "codec": "pcmu"}
        body.update({"host": to[0], "port": to[1]})
        if group is not None:
            body["group"] = group
        data, _ = await client.message(self._manager or 0, body)
        return int(data["stream_id"])

    async def _move(
        self,
        client: JanusClient,
        room: _Room,
        handle: int,
        party: Party,
        target: int,
        *,
        record: bool = True,
    ) -> None:
        """Move ``party``'s participant to ``target`` (its socket and address stay): in the
        call's room with its own mute (a supervisor is muted unless barging), elsewhere heard
        (a whispering supervisor). A move closes the agent's recording file, so a recorded
        call's next part begins (``record``)."""
        body = {"request": "changeroom", "room": target, "display": party, "group": party}
        own = room.muted.get(party, party == "supervisor")
        body["muted"] = own if target == room.id or party == "agent" else False
        await client.message(handle, body)
        files = room.record_body(party) if record else {}
        if files:
            await client.message(handle, {"request": "configure", **files})

    # --- inside ------------------------------------------------------------------------------

    def _lock(self, uniqueid: str) -> asyncio.Lock:
        return self._locks.setdefault(uniqueid, asyncio.Lock())

    async def _room(self, uniqueid: str) -> tuple[JanusClient, _Room]:
        client = self.client
        if client is None:
            raise MediaError("no media engine is running")
        room = self._rooms.get(uniqueid)
        gone = room is not None and not room.made and room.waiting is None  # (its caller left)
        if room is not None and (room.vacant or gone):  # forwarded, or its caller left
            await self._remake(client, room, uniqueid)
        if room is not None:
            return client, room
        if uniqueid in self._ended:
            raise MediaError(f"call {uniqueid} has ended")
        room = _Room(next(self._ids))
        await self._create(client, room.id, uniqueid[:64])
        self._rooms[uniqueid] = room
        return client, room

    async def _remake(self, client: JanusClient, room: _Room, uniqueid: str) -> None:
        """The call's room, gone from the engine (``vacant``, or not ``made``), made again
        under a new id."""
        made = next(self._ids)
        await self._create(client, made, uniqueid[:64])
        room.id, room.vacant, room.made = made, False, True

    async def _create(self, client: JanusClient, room: int, description: str) -> None:
        if self._manager is None:
            self._manager = await client.attach()
        body = {
            "request": "create",
            "room": room,
            "description": description,
            "sampling_rate": SAMPLING_RATE,
            "allow_rtp_participants": True,
            "groups": list(GROUPS),
            "audiolevel_event": False,
        }
        await client.message(self._manager, body)

    async def _to_music(self, client: JanusClient, room: _Room, path: str, uniqueid: str) -> None:
        """The far party, alone in its call's room, goes to wait in the room that loops
        ``path`` for every caller waiting with it (made the first time), muted: the callers
        there hear the music and not each other. The call's room, empty, is destroyed."""
        shared = self._music.get(path)
        if shared is None:
            shared = next(self._ids)
            await self._create(client, shared, f"music {Path(path).name}"[:64])
            await self._play(client, shared, path, loop=True, key=MUSIC)
            self._music[path] = shared
        if room.waiting == shared:
            return  # there already (the music asked again)
        body = {"request": "changeroom", "room": shared, "display": "far", "group": "far"}
        await client.message(room.handles["far"], {**body, "muted": True})
        room.waiting = shared
        if room.made and room.parking is None and room.coach is None and room.whisper is None:
            room.made = False
            await self._destroy(client, uniqueid, room.id)

    async def _from_music(self, client: JanusClient, room: _Room, uniqueid: str) -> None:
        """The far party back from the shared music room into its call's (made again), with
        its own mute."""
        handle = room.handles.get("far")
        if room.waiting is None or handle is None:
            return
        if not room.made:
            await self._remake(client, room, uniqueid)
        room.waiting = None
        body = {"request": "changeroom", "room": room.id, "display": "far", "group": "far"}
        await client.message(handle, {**body, "muted": room.muted.get("far", False)})

    async def _play(
        self, client: JanusClient, room: int, path: str, *, loop: bool, key: str
    ) -> None:
        assert self._manager is not None  # made with the room
        body = {"request": "play_file", "room": room, "filename": path, "loop": loop}
        body["group"] = "other"
        body["file_id"] = key
        await client.message(self._manager, body)

    async def _stop(self, client: JanusClient, room: _Room, key: str) -> None:
        assert self._manager is not None
        try:
            await client.message(
                self._manager, {"request": "stop_file", "room": room.id, "file_id": key}
            )
        except MediaError:
            pass  # it had ended (a file played once), or never started

    async def _close_files(self, client: JanusClient, room: _Room) -> None:
        """Close the recording files of the call's two sides (they stay whole on disk)."""
        for party, handle in room.handles.items():
            if party in ("far", "agent"):
                await client.message(handle, {"request": "configure", "record": False})

    async def _join(self, client: JanusClient, room: _Room, party: Party) -> int:
        """A fresh handle for ``party`` (one that was there before leaves: a browser that
        connects again replaces its earlier connection)."""
        old = room.handles.pop(party, None)
        if old is not None:
            await client.detach(old)
        handle = await client.attach()
        room.handles[party] = handle
        return handle


def _address(data: dict[str, object]) -> tuple[str, int]:
    """Where a plain-RTP participant's ``joined`` says the engine takes its RTP."""
    rtp = data.get("rtp")
    if not isinstance(rtp, dict) or "ip" not in rtp or "port" not in rtp:
        raise MediaError("the media engine gave no RTP address")
    return str(rtp["ip"]), int(rtp["port"])
