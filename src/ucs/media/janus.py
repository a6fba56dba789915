"""``Media`` on Janus: every call's audio is anchored in an AudioBridge room of its own.

Parties join the room as WebRTC participants (the agent's browser; its SDP travels over the
operator protocol, never browser to Janus) or as plain-RTP participants (the simulator's
callers, later SIP legs). The room mixes: each party hears the others. Mute is the
participant's ``muted``. Requests about one call are carried out in order (a lock per call).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import OrderedDict
from dataclasses import dataclass, field

from ucs.media.base import MediaError, Party
from ucs.media.janus_api import JanusClient

__all__ = ["JanusMedia"]

log = logging.getLogger("ucs.media")

ENDED_KEPT = 10_000
"""Ended calls remembered (``_ended``): some 100 bytes each."""
HOLD = "hold"
"""The key of the music played to a held party."""
SAMPLING_RATE = 8000
"""The rooms mix at 8 kHz, the far party's (G.711) rate: at 16 kHz Janus up-samples a G.711
leg without filtering its image, and the agent heard a caller's 440 Hz with a 7560 Hz whine
(a quarter of the power; measured, docs/media.md)."""


@dataclass
class _Room:
    id: int
    handles: dict[Party, int] = field(default_factory=dict)
    muted: dict[Party, bool] = field(default_factory=dict)
    parking: int | None = None
    """A silent room of the call where the agent's browser waits while the call is held."""
    coach: int | None = None
    """A room of the call where a whispering supervisor is heard by the agent alone."""
    held: bool = False
    record_to: str | None = None
    """While the call is recorded (or held while recorded): the folder its parties'
    recordings go to (``.mjr``)."""
    files: int = 0
    """Recording files started in the room: each part's name is new, never overwritten."""

    def record_body(self, party: Party) -> dict[str, object]:
        """What a ``join`` or ``configure`` of ``party`` adds to record it (nothing when the
        call is not being recorded)."""
        if self.record_to is None or party not in ("far", "agent"):  # the call's two sides only
            return {}
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
        self._ended: OrderedDict[str, None] = OrderedDict()
        """Calls whose audio was freed lately: a late request never makes them a room again."""

    # --- the supervisor's side -------------------------------------------------------------

    def up(self, client: JanusClient) -> None:
        self.client, self._manager = client, None
        self._rooms.clear()

    def down(self) -> list[str]:
        """The engine failed: every room is gone. Returns the calls that had audio."""
        self.client, self._manager = None, None
        calls = list(self._rooms)
        self._rooms.clear()
        return calls

    @property
    def available(self) -> bool:
        return self.client is not None and not self.client.closed.is_set()

    def has_call(self, uniqueid: str) -> bool:
        return uniqueid in self._rooms

    # --- Media -------------------------------------------------------------------------------

    async def connect_browser(self, uniqueid: str, party: Party, offer: str) -> str:
        async with self._lock(uniqueid):
            client, room = await self._room(uniqueid)
            target = room.id
            if party.startswith("coach-"):  # a whisper: the agent hears the supervisor alone
                if room.coach is None:
                    room.coach = next(self._ids)
                    await self._create(client, room.coach, f"{uniqueid[:56]} coach")
                target = room.coach
            handle = await self._join(client, room, party)
            body = {"request": "join", "room": target, "display": party, "codec": "opus"}
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
            handle = await self._join(client, room, party)
            body = {
                "request": "join",
                "room": room.id,
                "display": party,
                "codec": codec,
                "muted": room.muted.get(party, False),
                "rtp": {"ip": address[0], "port": address[1]},
                **room.record_body(party),
            }
            data, _ = await client.message(handle, body)
            rtp = data.get("rtp") or {}
            if "ip" not in rtp or "port" not in rtp:
                raise MediaError("the media engine gave no RTP address")
            return str(rtp["ip"]), int(rtp["port"])

    async def mute(self, uniqueid: str, party: Party, muted: bool) -> None:
        async with self._lock(uniqueid):
            room = self._rooms.get(uniqueid)
            if room is None:
                raise MediaError(f"call {uniqueid} has no audio")
            room.muted[party] = muted
            handle = room.handles.get(party)
            if handle is not None and self.client is not None:
                await self.client.message(handle, {"request": "configure", "muted": muted})

    async def leave(self, uniqueid: str, party: Party) -> None:
        async with self._lock(uniqueid):
            room = self._rooms.get(uniqueid)
            handle = room.handles.pop(party, None) if room is not None else None
            if room is not None:
                room.muted.pop(party, None)
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
            await self._play(client, room, path, loop=loop, key=key)

    async def stop_playing(self, uniqueid: str, key: str) -> None:
        async with self._lock(uniqueid):
            room = self._rooms.get(uniqueid)
            if room is not None and self.client is not None:
                await self._stop(self.client, room, key)

    async def hold(self, uniqueid: str, music: str | None) -> None:
        async with self._lock(uniqueid):
            client, room = await self._room(uniqueid)
            if room.held:
                return
            room.held = True
            if room.record_to is not None:  # neither side is recorded while held
                await self._close_files(client, room)
            handle = room.handles.get("agent")
            if handle is not None:  # the agent's browser waits in a silent room of its own
                if room.parking is None:
                    room.parking = next(self._ids)
                    await self._create(client, room.parking, f"{uniqueid[:56]} parked")
                await client.message(handle, {"request": "changeroom", "room": room.parking})
            if music is not None:
                await self._play(client, room, music, loop=True, key=HOLD)

    async def unhold(self, uniqueid: str) -> None:
        async with self._lock(uniqueid):
            room = self._rooms.get(uniqueid)
            client = self.client
            if room is None or client is None or not room.held:
                return
            room.held = False
            await self._stop(client, room, HOLD)
            handle = room.handles.get("agent")
            if handle is not None:
                body = {"request": "changeroom", "room": room.id, "display": "agent"}
                body["muted"] = room.muted.get("agent", False)
                await client.message(handle, body)
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
                for handle in room.handles.values():
                    if room.record_to is not None:  # its recording files are closed whole
                        try:
                            await client.message(handle, {"request": "configure", "record": False})
                        except MediaError as err:
                            log.warning("recording of %s not closed: %s", uniqueid, err)
                    await client.detach(handle)
                for room_id in (room.id, room.parking, room.coach):
                    if self._manager is None or room_id is None:
                        continue
                    try:
                        await client.message(self._manager, {"request": "destroy", "room": room_id})
                    except MediaError as err:
                        log.warning("room of %s not destroyed: %s", uniqueid, err)
        self._locks.pop(uniqueid, None)

    # --- inside ------------------------------------------------------------------------------

    def _lock(self, uniqueid: str) -> asyncio.Lock:
        return self._locks.setdefault(uniqueid, asyncio.Lock())

    async def _room(self, uniqueid: str) -> tuple[JanusClient, _Room]:
        client = self.client
        if client is None:
            raise MediaError("no media engine is running")
        room = self._rooms.get(uniqueid)
        if room is not None:
            return client, room
        if uniqueid in self._ended:
            raise MediaError(f"call {uniqueid} has ended")
        room = _Room(next(self._ids))
        await self._create(client, room.id, uniqueid[:64])
        self._rooms[uniqueid] = room
        return client, room

    async def _create(self, client: JanusClient, room: int, description: str) -> None:
        if self._manager is None:
            self._manager = await client.attach()
        body = {
            "request": "create",
            "room": room,
            "description": description,
            "sampling_rate": SAMPLING_RATE,
            "allow_rtp_participants": True,
            "audiolevel_event": False,
        }
        await client.message(self._manager, body)

    async def _play(
        self, client: JanusClient, room: _Room, path: str, *, loop: bool, key: str
    ) -> None:
        assert self._manager is not None  # made with the room
        body = {"request": "play_file", "room": room.id, "filename": path, "loop": loop}
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
