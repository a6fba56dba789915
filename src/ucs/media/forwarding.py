"""Calls that need no mixing leave Janus: their two legs are forwarded by rtpengine.

A Janus AudioBridge room costs its threads, whatever it carries (docs/performance.md, "What
a room costs": 0.4-0.5 % of a core a call), and a connected call whose two sides are plain
RTP (a trunk's caller and a desk phone) needs no mixing while only they talk. With
``--media-relay auto`` (the default) every SIP leg goes through rtpengine (``relay.py``), and
such a call's two legs are pointed at each other (``Relay.repoint``: each leg's room side sends to
the other's, about 0.17 % of a core a leg, bench/relay.py's ``chain``); its rooms are
destroyed (``JanusMedia.vacate``). The phones notice nothing: rtpengine's addresses, which
their SDP names, stay.

Anything that needs the room brings the call back first (``_to_room``): the legs' room sides
join a new room as before and are pointed at their participants, then the request is carried
out as on any call: a hold (music for one side, silence for the other), mute, a supervisor,
a browser, keys played as tones, a party joining. After each request the call is forwarded
again if it can be (``JanusMedia.forwardable``: its room holds its two legs and nothing else,
no one muted, held, recorded by the room or monitored, nothing playing). A key's tones
(``key-N``, 200 ms) are given two seconds before the call leaves the room again.

A recorded call is forwarded too: rtpengine records each relayed leg (``Relay.record``: what
the leg's phone says arrives at its port, a pcap file a stretch; ``ucs.media.recorder`` makes
the WAV of them), and the room records only the parties it does not relay (a browser). A leg
is recorded while the call is recorded, not held and the leg's party not muted, as in a room,
wherever its audio goes meanwhile (``_record_legs``).

Only legs that agree are forwarded: the same G.711 format and the same telephone-event payload
type (or none on both), since rtpengine passes the packets on as they are (a room transcodes).
Every request about a call, and every move, runs under one lock of the call's, so a request
that needs the room never finds it vacated under it, and requests keep their order.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from ucs.media.base import MediaError, Party
from ucs.media.janus import JanusMedia
from ucs.media.relay import Leg, Relay

__all__ = ["ForwardingMedia"]

log = logging.getLogger("ucs.media")

KEY_TONES = 2.0
"""Seconds a call stays in its room after a key's tones were played into it."""
SIDES: tuple[Party, Party] = ("far", "agent")
PAIRS: tuple[tuple[Party, Party], ...] = (("far", "agent"), ("agent", "far"))
"""Each side and the side its leg is pointed at when the call is forwarded."""


@dataclass(frozen=True)
class _Leg:
    room_side: tuple[str, int]
    """Where rtpengine sends the leg's phone's audio from (and takes what the phone hears)."""
    codec: str


class ForwardingMedia(JanusMedia):
    def __init__(self, relay: Relay) -> None:
        super().__init__()
        self.relay = relay
        self._legs: dict[str, dict[Party, _Leg]] = {}
        """Each call's parties relayed by rtpengine."""
        self._joined: dict[str, dict[Party, tuple[str, int]]] = {}
        """Where each relayed party's participant takes its audio in the call's room."""
        self._forwarded: set[str] = set()
        """Calls forwarded leg to leg now (their rooms vacated)."""
        self._playing: dict[str, set[str]] = {}
        """What is played into each call's room (by key) and not stopped yet."""
        self._calls: dict[str, asyncio.Lock] = {}
        self._timers: set[asyncio.Task[None]] = set()
        self._recording: dict[str, dict[Party, str]] = {}
        """Each call's legs rtpengine records now: each party's call-id."""

    @property
    def forwarded(self) -> int:
        """How many calls are forwarded leg to leg now (``/metrics``)."""
        return len(self._forwarded)

    def is_forwarded(self, uniqueid: str) -> bool:
        return uniqueid in self._forwarded

    def down(self) -> list[str]:
        """Janus failed: every call with audio ends (``Conductor._lost``), forwarded or not
        (a forwarded call's state is in its room's, which is gone)."""
        for table in (self._legs, self._joined, self._playing, self._calls, self._recording):
            table.clear()
        self._forwarded.clear()
        return super().down()

    async def relayed(
        self, uniqueid: str, party: Party, room_side: tuple[str, int], codec: str
    ) -> None:
        """``party``'s leg of the call is relayed by rtpengine, its room side at
        ``room_side`` (and joined to the room): the call is forwarded if it can be."""
        async with self._call(uniqueid):
            if party in SIDES and not self.ended(uniqueid):
                self._legs.setdefault(uniqueid, {})[party] = _Leg(room_side, codec)
            await self._settle(uniqueid)

    # --- every request: in the room first, forwarded again after if it can be --------------

    async def connect_browser(self, uniqueid: str, party: Party, offer: str) -> str:
        async with self._call(uniqueid):
            await self._to_room(uniqueid)
            self._recorded_by_relay(uniqueid, party, False)  # (a browser: the room records it)
            await self._record_legs(uniqueid)
            return await super().connect_browser(uniqueid, party, offer)

    async def connect_rtp(
        self,
        uniqueid: str,
        party: Party,
        address: tuple[str, int],
        codec: str,
        *,
        relayed: bool = False,
    ) -> tuple[str, int]:
        """``relayed``: ``address`` is the room side of a leg rtpengine relays (``relayed``
        follows once it is set up), so rtpengine, not the room, records the party."""
        async with self._call(uniqueid):
            await self._to_room(uniqueid)
            if party in SIDES:  # a new leg, or one not relayed: known again once relayed
                self._legs.get(uniqueid, {}).pop(party, None)
                self._recorded_by_relay(uniqueid, party, relayed)
            at = await super().connect_rtp(uniqueid, party, address, codec)
            if party in SIDES:
                self._joined.setdefault(uniqueid, {})[party] = at
                self._recorded_by_relay(uniqueid, party, relayed)  # (its room is made now)
                if not relayed:  # (a relayed leg's recording starts once it is: ``relayed``)
                    await self._record_legs(uniqueid)
            return at

    async def mute(self, uniqueid: str, party: Party, muted: bool) -> None:
        async with self._call(uniqueid):
            if uniqueid in self._forwarded and not muted:
                return  # (no one is muted on a forwarded call)
            await self._to_room(uniqueid)
            await super().mute(uniqueid, party, muted)
            await self._settle(uniqueid)

    async def leave(self, uniqueid: str, party: Party) -> None:
        async with self._call(uniqueid):
            if uniqueid in self._forwarded and party not in SIDES:
                return  # (a forwarded call has its two sides and no one else)
            await self._to_room(uniqueid)
            self._legs.get(uniqueid, {}).pop(party, None)
            self._recorded_by_relay(uniqueid, party, False)  # (whoever joins next is new)
            await super().leave(uniqueid, party)
            await self._settle(uniqueid)

    async def record(self, uniqueid: str, folder: str | None) -> None:
        async with self._call(uniqueid):
            room = self._rooms.get(uniqueid)
            if uniqueid in self._forwarded and room is not None and room.elsewhere >= set(SIDES):
                room.record_to = folder  # (its two legs: rtpengine records them)
            else:
                await self._to_room(uniqueid)
                await super().record(uniqueid, folder)
            await self._settle(uniqueid)

    async def play(self, uniqueid: str, path: str, *, loop: bool, key: str) -> None:
        async with self._call(uniqueid):
            await self._to_room(uniqueid)
            await super().play(uniqueid, path, loop=loop, key=key)
            if self.ended(uniqueid):
                return
            self._playing.setdefault(uniqueid, set()).add(key)
            if key.startswith("key-") and not loop:
                timer = asyncio.ensure_future(self._played(uniqueid, key))
                self._timers.add(timer)
                timer.add_done_callback(self._timer_done)

    async def stop_playing(self, uniqueid: str, key: str) -> None:
        async with self._call(uniqueid):
            self._playing.get(uniqueid, set()).discard(key)
            if uniqueid not in self._forwarded:  # (forwarded, nothing plays)
                await super().stop_playing(uniqueid, key)
            await self._settle(uniqueid)

    async def hold(self, uniqueid: str, music: str | None) -> None:
        async with self._call(uniqueid):
            await self._to_room(uniqueid)
            await super().hold(uniqueid, music)
            await self._record_legs(uniqueid)

    async def unhold(self, uniqueid: str) -> None:
        async with self._call(uniqueid):
            await super().unhold(uniqueid)  # (a forwarded call is not held)
            await self._settle(uniqueid)

    async def coach_rtp(self, uniqueid: str, on: bool) -> None:
        async with self._call(uniqueid):
            if uniqueid in self._forwarded and not on:
                return  # (no one whispers on a forwarded call)
            await self._to_room(uniqueid)
            await super().coach_rtp(uniqueid, on)
            await self._settle(uniqueid)

    async def end(self, uniqueid: str) -> None:
        async with self._call(uniqueid):
            self._forwarded.discard(uniqueid)
            self._legs.pop(uniqueid, None)
            self._joined.pop(uniqueid, None)
            self._playing.pop(uniqueid, None)
            self._recording.pop(uniqueid, None)  # (its legs' files close as they are deleted)
            await super().end(uniqueid)
        self._calls.pop(uniqueid, None)

    # --- moving (under the call's lock) -----------------------------------------------------

    async def _played(self, uniqueid: str, key: str) -> None:
        await asyncio.sleep(KEY_TONES)
        if self.ended(uniqueid):
            return
        async with self._call(uniqueid):
            playing = self._playing.get(uniqueid)
            if playing is not None and key in playing:
                playing.discard(key)
                await self._settle(uniqueid)

    def _timer_done(self, timer: asyncio.Task[None]) -> None:
        self._timers.discard(timer)
        if not timer.cancelled() and timer.exception() is not None:
            log.warning("a call's audio was not forwarded again: %s", timer.exception())

    async def _to_room(self, uniqueid: str) -> None:
        """A forwarded call's legs back into a room of the call (made again): both join it,
        then both are pointed at their participants."""
        if uniqueid not in self._forwarded:
            return
        legs = dict(self._legs.get(uniqueid, {}))
        joined = self._joined.setdefault(uniqueid, {})
        for party, leg in legs.items():
            joined[party] = await super().connect_rtp(uniqueid, party, leg.room_side, leg.codec)
        for party in legs:
            await self.relay.repoint(uniqueid, party, joined[party])
        self._forwarded.discard(uniqueid)

    def _recorded_by_relay(self, uniqueid: str, party: Party, relayed: bool) -> None:
        """Whether rtpengine records ``party`` (its leg is relayed, and rtpengine records)
        rather than the call's room (once the room is there to be told)."""
        room = self._rooms.get(uniqueid)
        if room is None:
            return
        if relayed and self.relay.config.recordings is not None:
            room.elsewhere.add(party)
        else:
            room.elsewhere.discard(party)

    async def _record_legs(self, uniqueid: str) -> None:
        """rtpengine records each relayed leg of the call that should be (the call recorded,
        not held, the party not muted), and no other. A leg starting is named in the call's
        parts folder (``rtpengine-<call-id>.json``: whose side, at which port, from where)."""
        room = self._rooms.get(uniqueid)
        if room is None:  # (ended: its legs' files closed as they were deleted)
            self._recording.pop(uniqueid, None)
            return
        folder = room.record_to
        wanted: dict[Party, Leg] = {}
        if folder is not None and not room.held:
            for party in self._legs.get(uniqueid, {}):
                leg = self.relay.leg(uniqueid, party)
                if party in room.elsewhere and not room.muted.get(party) and leg is not None:
                    wanted[party] = leg
        recording = self._recording.setdefault(uniqueid, {})
        for party, callid in list(recording.items()):
            leg = wanted.get(party)
            if leg is not None and leg.callid == callid:
                continue
            current = self.relay.leg(uniqueid, party)
            if current is not None and current.callid == callid:  # (a leg replaced is closed)
                if not await self._relay_records(callid, False):
                    continue  # (still recorded, as far as is known: stopped at the next try)
            del recording[party]
        for party, leg in wanted.items():
            if party in recording or folder is None:
                continue
            about = {"party": party, "port": leg.port, "source": list(leg.phone)}
            named = Path(folder) / f"rtpengine-{leg.callid}.json"
            try:
                named.write_text(json.dumps(about), encoding="utf-8")
            except OSError as err:
                log.warning("recording of %s: %s not written (%s)", uniqueid, named, err)
                continue
            if await self._relay_records(leg.callid, True):
                recording[party] = leg.callid
            else:  # (it may have started all the same, unanswered: not recorded till retried)
                await self._relay_records(leg.callid, False)

    async def _relay_records(self, callid: str, on: bool) -> bool:
        try:
            await self.relay.record(callid, on)
        except MediaError as err:
            log.warning(
                "rtpengine's leg %s: recording not %s: %s", callid, "on" if on else "off", err
            )
            return False
        return True

    async def _settle(self, uniqueid: str) -> None:
        """Record the call's legs as they should be, and forward the call leg to leg if
        nothing needs its room any more."""
        await self._record_legs(uniqueid)
        legs = dict(self._legs.get(uniqueid, {}))
        if (
            uniqueid in self._forwarded
            or self.ended(uniqueid)
            or self._playing.get(uniqueid)
            or legs.keys() != set(SIDES)
            or not self.relay.available
            or not self.relay.agree(uniqueid, *SIDES)
            or not self.forwardable(uniqueid)
        ):
            return
        moved: list[Party] = []
        try:
            for party, other in PAIRS:
                await self.relay.repoint(uniqueid, party, legs[other].room_side)
                moved.append(party)
        except MediaError as err:
            log.warning("call %s not forwarded: %s", uniqueid, err)
            joined = self._joined.get(uniqueid, {})
            for party in moved:  # back to the room, which is still there
                if party in joined:
                    await self.relay.repoint(uniqueid, party, joined[party])
            return
        self._forwarded.add(uniqueid)
        await self.vacate(uniqueid)

    def _call(self, uniqueid: str) -> asyncio.Lock:
        return self._calls.setdefault(uniqueid, asyncio.Lock())
