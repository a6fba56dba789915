"""``SipSwitch``: the ``Switch`` Protocol over real SIP (CONTRACT §9).

The engine calls ``apply`` on the event loop's thread; the effect is posted to sippy's thread
(``B2BUA``), which reports what the network says back through ``loop.call_soon_threadsafe`` and
``Engine.submit``. ``apply`` itself never returns events: with real phones, nothing follows at once.
"""

from __future__ import annotations

import asyncio
import collections
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ucs.core.directory import Directory, LineConfig, QueueType
from ucs.core.effects import Created, Monitor, SwitchEffect
from ucs.core.errors import MediaUnavailable, UcsError
from ucs.core.events import (
    Event,
    HungUp,
    PhoneCall,
    Registration,
    Registrations,
    TrunkCall,
)
from ucs.core.ids import LineId, QueueId, UniqueId
from ucs.core.model import Cause
from ucs.media.base import Anchored
from ucs.media.sdp import Audio
from ucs.switch.sip import stack
from ucs.switch.sip.b2bua import B2BUA, Arrival
from ucs.switch.sip.phones import parse_hostport
from ucs.switch.sip.placement import Placement
from ucs.switch.sip.registrar import Binding

if TYPE_CHECKING:
    from ucs.runtime.engine import Engine

__all__ = ["BindingStore", "SipConfig", "SipMedia", "SipSwitch", "parse_hostport"]

log = logging.getLogger("ucs.sip")


@dataclass(frozen=True, slots=True)
class SipConfig:
    host: str = "127.0.0.1"
    port: int = 5060
    trunk: tuple[str, int] | None = None
    """The SIP trunk peer: outside numbers go there, and only it may call in from outside."""
    ring_timeout: float = 60.0
    """Seconds an outside number may ring before the call fails with cause 6."""
    realm: str = "ucs"
    proxies: tuple[tuple[str, int], ...] = ()
    """The SIP proxies in front (Kamailio): they name each request's source (``X-UCS-Source``)."""


class SipMedia(Protocol):
    """What the SIP switch needs of the media plane (``ucs.media.Conductor``)."""

    @property
    def available(self) -> bool: ...

    async def connect_sip(
        self, uid: str, party: str, address: tuple[str, int], codec: str, dtmf: int | None = None
    ) -> Anchored:
        """Join a SIP leg's audio (sent from and taken at ``address``; its RFC 4733 events of
        payload type ``dtmf``) to the call's room as ``party``; the address for it, and
        whether its keys are read there. ``MediaUnavailable`` when it cannot."""
        ...

    async def press(self, uid: str, key: str) -> None:
        """Play a key's tones into the call's room (the agent's phone pressed it)."""
        ...


class BindingStore(Protocol):
    """Where the registrar's bindings are kept across restarts (the database)."""

    def load(self) -> list[Binding]: ...

    def save(self, identifier: str, binding: Binding | None) -> None: ...


class SipSwitch:
    """Registrar and back-to-back user agent for the phones in the database.

    It tells the core which phones are registered (``Registrations`` at start, ``Registration``
    as they register, unregister or run out), so that only phones that can be rung are offered
    queue calls; bindings are saved (``BindingStore``) and taken back after a restart.
    """

    def __init__(
        self,
        config: SipConfig,
        secret: Callable[[str], str | None],
        bindings: BindingStore | None = None,
        placement: Placement | None = None,
    ) -> None:
        """``placement``: in a cluster, which node each request is for (``placement.py``)."""
        self.config = config
        self.placement = placement
        self._secret = secret
        self._stored = bindings
        self._registered: dict[LineId, float] = {}
        """Registered phones, each with the wall-clock time its registration ends."""
        self._expiry: list[tuple[float, LineId]] = []
        self._engine: Engine | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._uids = itertools.count(1)
        self.b2bua: B2BUA | None = None
        self._tm: Any = None
        self._inbox: collections.deque[tuple[Callable[[Any], object], Any]] = collections.deque()
        self._inbox_lock = threading.Lock()
        self._inbox_pending = False
        self.media: SipMedia | None = None
        """The media plane its calls' audio is anchored in (``ucs.media``); None: none, the
        endpoints send their audio to each other."""
        self._anchoring: set[asyncio.Task[None]] = set()

    # --- wiring ---------------------------------------------------------------------------------

    def attach(self, engine: Engine) -> None:
        self._engine = engine
        engine.observers.append(self._observed)

    def _observed(self, event: Event | None, effects: list[Any], seconds: float) -> None:
        """A supervisor's monitoring from a desk phone (``Monitor.line``): the switch calls
        that phone into the call's audio and hangs it up at the end (``anchor.py``)."""
        if self.b2bua is None:
            return
        for effect in effects:
            if isinstance(effect, Monitor) and effect.line is not None:
                stack.call_in_sip_thread(self.b2bua.monitor, effect)

    def _directory(self) -> Directory:
        assert self._engine is not None
        return self._engine.center.directory

    def use_media(self, media: SipMedia) -> None:
        """Anchor the audio of calls in ``media`` while its engine runs (before ``start``)."""
        self.media = media

    def start(self) -> None:
        """Open the SIP port; call on the running event loop."""
        self._loop = asyncio.get_running_loop()
        stack.ensure_running()
        self.b2bua = B2BUA(
            host=self.config.host,
            port=self.config.port,
            trunk=self.config.trunk,
            directory=self._directory,
            secret=self._secret,
            report=self._report,
            arrived=self._arrived_threadsafe,
            ring_timeout=self.config.ring_timeout,
            realm=self.config.realm,
            registered=self._registered_threadsafe,
            placement=self.placement,
            proxies=frozenset(self.config.proxies),
        )
        if self.media is not None:
            self.b2bua.anchor = self._anchor_threadsafe
            self.b2bua.press = self._press_threadsafe
            media = self.media
            self.b2bua.anchor_ready = lambda: media.available
        now = time.time()
        directory = self._directory()
        saved = self._stored.load() if self._stored is not None else []
        alive = {
            LineId(line.id): b
            for b in saved
            if b.expires > now and (line := directory.line_by_identifier(b.identifier))
        }
        stack.call_in_sip_thread_sync(self.b2bua.registrar.restore, list(alive.values()))
        self._tm = stack.call_in_sip_thread_sync(self._open, self.b2bua)
        for lid, b in alive.items():
            self._note(lid, b.expires)
        self._submit(Registrations(frozenset(self._registered)))
        log.info(
            "SIP on %s:%d (trunk %s), %d phones registered before the start",
            self.config.host,
            self.config.port,
            self.config.trunk,
            len(alive),
        )

    def _open(self, b2bua: B2BUA) -> Any:
        b2bua.config.update(
            {
                "_sip_address": self.config.host,
                "_sip_port": self.config.port,
                "_sip_logger": stack.quiet_logger(),
            }
        )
        tm = stack.OneWorkerTM(b2bua.config, b2bua.on_request, b2bua.malformed)
        b2bua.config["_sip_tm"] = tm
        return tm

    def stop(self) -> None:
        """Close the SIP port (calls in progress are left to time out at the phones)."""
        tm, self._tm = self._tm, None
        if tm is not None:
            stack.call_in_sip_thread_sync(tm.shutdown)

    # --- the Switch Protocol ---------------------------------------------------------------------

    def apply(self, effect: SwitchEffect, now: float) -> list[Event]:
        if self.b2bua is not None:
            stack.call_in_sip_thread(self.b2bua.apply, effect)
        return []

    def next_deadline(self) -> float | None:
        """When the first registration runs out."""
        while self._expiry and self._registered.get(self._expiry[0][1]) != self._expiry[0][0]:
            heapq.heappop(self._expiry)  # refreshed or ended since
        return self._expiry[0][0] if self._expiry else None

    def on_deadline(self, now: float) -> list[Event]:
        """Phones whose registration ran out can no longer be rung."""
        events: list[Event] = []
        while (due := self.next_deadline()) is not None and due <= now:
            _, line = heapq.heappop(self._expiry)
            del self._registered[line]
            events.append(Registration(line, False))
        return events

    # --- registrations --------------------------------------------------------------------------

    def _note(self, line: LineId, until: float) -> None:
        self._registered[line] = until
        heapq.heappush(self._expiry, (until, line))

    def _registered_threadsafe(self, line: LineConfig, binding: Binding | None) -> None:
        self._post(self._on_registered, (line, binding))

    def _on_registered(self, arg: tuple[LineConfig, Binding | None]) -> None:
        """Every REGISTER is told to the core, refreshes too: a phone the core stopped ringing
        (it could not be reached) is back with its next REGISTER."""
        line, binding = arg
        if self._stored is not None:
            self._stored.save(line.identifier, binding)
        lid = LineId(line.id)
        if binding is None:
            self._registered.pop(lid, None)
        else:
            self._note(lid, binding.expires)
        self._submit(Registration(lid, binding is not None))

    # --- from sippy's thread ----------------------------------------------------------------------

    def _report(self, event: Event) -> None:
        self._post(self._submit, event)

    def _post(self, fn: Callable[[Any], object], arg: Any) -> None:
        """Run ``fn(arg)`` on the event loop, in order; one wake-up for all posted meanwhile
        (``call_soon_threadsafe`` writes to the loop's self-pipe every time)."""
        self._inbox.append((fn, arg))
        with self._inbox_lock:
            if self._inbox_pending:
                return
            self._inbox_pending = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._take_inbox)
            except RuntimeError:  # the loop closed meanwhile
                pass

    def _take_inbox(self) -> None:
        with self._inbox_lock:
            self._inbox_pending = False
        while self._inbox:
            fn, arg = self._inbox.popleft()
            try:
                fn(arg)
            except Exception:  # the events after it must be handled all the same
                log.exception("handling %r failed", arg)

    def _submit(self, event: Event) -> list[Any]:
        if self._engine is None:
            return []
        try:
            return self._engine.submit(event)
        except Exception:
            log.exception("event %r failed", event)
            return []

    # --- anchoring calls' audio in the media engine -------------------------------------------

    def _anchor_threadsafe(
        self,
        uid: UniqueId,
        party: str,
        audio: Audio,
        done: Callable[[Anchored | None], None],
    ) -> None:
        """From sippy's thread: in order with the events reported (a transfer is told before
        the new party joins), join ``party``'s audio to the call's room; ``done`` is called
        back on sippy's thread with the engine's address (None: refused)."""
        self._post(self._anchor, (uid, party, audio, done))

    def _anchor(
        self,
        arg: tuple[UniqueId, str, Audio, Callable[[Anchored | None], None]],
    ) -> None:
        uid, party, audio, done = arg
        media = self.media
        assert media is not None

        async def join() -> None:
            address: Anchored | None = None
            try:
                address = await media.connect_sip(
                    uid, party, (audio.ip, audio.port), audio.codec, audio.dtmf
                )
            except MediaUnavailable as err:
                log.warning("call %s: the %s party's audio not anchored: %s", uid, party, err)
            stack.call_in_sip_thread(done, address)

        task = asyncio.get_running_loop().create_task(join())
        self._anchoring.add(task)
        task.add_done_callback(self._anchoring.discard)

    def _press_threadsafe(self, uid: UniqueId, key: str) -> None:
        """From sippy's thread: the agent's phone pressed ``key`` on an anchored call."""
        self._post(self._press, (uid, key))

    def _press(self, arg: tuple[UniqueId, str]) -> None:
        uid, key = arg
        media = self.media
        assert media is not None

        async def play() -> None:
            try:
                await media.press(uid, key)
            except (MediaUnavailable, ValueError) as err:  # (SoundError: not encoded)
                log.warning("call %s: key %s not played to the far party: %s", uid, key, err)

        task = asyncio.get_running_loop().create_task(play())
        self._anchoring.add(task)
        task.add_done_callback(self._anchoring.discard)

    def _arrived_threadsafe(self, arrival: Arrival) -> None:
        self._post(self._arrived, arrival)

    def _arrived(self, arrival: Arrival) -> None:
        """A new INVITE: from one of our phones (the core routes it: ``PhoneCall``), or from
        the trunk into a queue or to an extension (``TrunkCall``)."""
        b2bua = self.b2bua
        if b2bua is None or self._engine is None:
            return
        directory = self._directory()
        number = arrival.number
        queue = next((q for q in directory.queues.values() if q.number == number), None)
        event: Event
        if arrival.line is not None:  # one of our phones calls: extension, queue or outside
            uid = self._new_uid()
            into_queue = queue is not None and queue.type is QueueType.INCOMING
            answer = into_queue and queue is not None and queue.plays_to_waiting
            stack.call_in_sip_thread(b2bua.bind, arrival.call, uid, into_queue, answer)
            event = PhoneCall(
                line=arrival.line.id, number=number, uniqueid=uid, channel=arrival.channel
            )
        else:
            line = directory.line_by_extension(number)
            if queue is None and line is None:
                stack.call_in_sip_thread(b2bua.refuse, arrival.call, Cause.INVALID_NUMBER)
                return
            uid = self._new_uid()
            answer = queue is not None and queue.plays_to_waiting
            stack.call_in_sip_thread(b2bua.bind, arrival.call, uid, queue is not None, answer)
            event = TrunkCall(
                number=arrival.caller,
                queue=QueueId(queue.id) if queue is not None else None,
                extension=line.extension if queue is None and line is not None else None,
                name=arrival.name,
                data={"transferred_from": arrival.linked} if arrival.linked else {},
                channel=arrival.channel,
                uniqueid=uid,
            )
        try:
            effects = self._engine.submit(event)
        except UcsError as exc:  # the storage is down, say: the caller hears so at once
            log.warning("new call %s refused (%s): %s", uid, exc.code, exc.message)
            self._refused(arrival, uid, Cause.UNAVAILABLE, (503, "Service Unavailable"))
            return
        except Exception:
            log.exception("new call %s failed", uid)
            self._refused(arrival, uid, Cause.UNKNOWN, (500, "Server Internal Error"))
            return
        made = next((e.uniqueid for e in effects if isinstance(e, Created)), uid)
        if made != uid:  # cannot happen: _new_uid checks; kept loud in case the core changes
            log.error("the core renamed call %s to %s", uid, made)

    def _refused(
        self, arrival: Arrival, uid: UniqueId, cause: Cause, response: tuple[int, str]
    ) -> None:
        """A new call the engine did not take: the caller gets ``response`` rather than an
        INVITE left unanswered, and should the core have the call after all, it ends."""
        assert self.b2bua is not None and self._engine is not None
        stack.call_in_sip_thread(self.b2bua.refuse, arrival.call, cause, response)
        if uid in self._engine.center.calls:
            self._submit(HungUp(uid, arrival.line.id if arrival.line is not None else None))

    def _new_uid(self) -> UniqueId:
        assert self._engine is not None
        center = self._engine.center
        while True:
            # A node of a cluster's start with its partition's (the core's ``uniqueid_prefix``):
            # the nodes' calls share the call records.
            prefix = center.book.uniqueid_prefix
            uid = UniqueId(f"{prefix}{int(time.time())}.{100000 + next(self._uids)}")
            if uid not in center.calls and uid not in center.ended:
                return uid
