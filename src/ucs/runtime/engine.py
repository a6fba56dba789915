"""The engine: events in, the core decides, effects out, one timer at the next deadline.

Everything runs on the event loop's thread, one event at a time, so the core needs no locks.
Switch effects go to the switch (``ucs.switch.base.Switch``), whose answers come back as
events; client effects go to the hub (the WebSocket connections); storage effects go to the
store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from ucs.core.center import Center
from ucs.core.effects import (
    AgentRecord,
    CallRecord,
    Created,
    Effect,
    Keep,
    Lookup,
    Push,
    Refuse,
    Reply,
    Send,
    SessionRecord,
    StatusRecord,
    SwitchEffect,
)
from ucs.core.errors import UcsError
from ucs.core.events import (
    CallbackRequested,
    Command,
    Event,
    LookedUp,
    PhoneCall,
    TrunkCall,
)
from ucs.switch.base import Switch

__all__ = ["EffectSink", "Engine", "LookupSink", "RecordSink"]

log = logging.getLogger("ucs.engine")

ClientEffect = Reply | Refuse | Push | Send
StorageEffect = CallRecord | StatusRecord | SessionRecord | AgentRecord | Keep
"""Handed to the store in order; ``Keep`` asks it to tell the core (``Kept``) once what came
before is kept."""

_READS = frozenset({"state"})
"""Commands that change nothing, answered even while new work is refused."""


class EffectSink(Protocol):
    """Where the engine hands client effects (the hub)."""

    def deliver(self, effect: Effect) -> None: ...


class RecordSink(Protocol):
    """Where the engine hands a step's storage effects, all at once (the store)."""

    def deliver_all(self, records: list[Effect]) -> None: ...


class LookupSink(Protocol):
    """Where the engine hands caller lookups (the CRM adapter); answers come back as events."""

    def deliver(self, effect: Lookup) -> list[Event]:
        """Start the lookup; return the answer's event when it is known at once."""
        ...


class _Discard:
    def deliver(self, effect: Effect) -> None:
        return None

    def deliver_all(self, records: list[Effect]) -> None:
        return None


class Engine:
    """Drives a ``Center`` and a ``Switch`` on the running event loop."""

    def __init__(
        self,
        center: Center,
        switch: Switch,
        *,
        clients: EffectSink | None = None,
        store: RecordSink | None = None,
        crm: LookupSink | None = None,
        clock: Callable[[], float] = time.time,
        refusal: Callable[[], UcsError | None] = lambda: None,
    ) -> None:
        self.center = center
        self.refusal = refusal
        """Why new calls and commands must be refused now (the store can keep nothing), or
        None: asked before each command and new call, so nothing is accepted to be lost."""
        self.switch = switch
        self.clients: EffectSink = clients or _Discard()
        self.store: RecordSink = store or _Discard()
        self.crm = crm
        """Carries out caller lookups; None: every lookup fails at once (the call goes on)."""
        self.clock = clock
        self.handled = 0
        self.observers: list[Callable[[Event | None, list[Effect], float], None]] = []
        """Called after each step with its event (None: the timers due), its effects and the
        seconds it took (metrics, the server's watch)."""
        self._timer: asyncio.TimerHandle | None = None
        self._deadline: float | None = None

    def submit(self, event: Event) -> list[Effect]:
        """Handle one event now, and every switch event that follows from it at once.

        Returns the effects of ``event`` itself (the follow-ups are carried out too). While
        ``refusal`` gives an error, a command is refused with it (a ``Refuse`` returned) and a
        new call raises it, for the switch or the simulator to turn away.
        """
        if isinstance(event, Command | TrunkCall | PhoneCall | CallbackRequested):
            error = self.refusal()
            if error is not None:
                if isinstance(event, Command):
                    if event.method not in _READS:
                        return [Refuse(event.client, event.request, error.code, error.message)]
                else:
                    raise error
        first: list[Effect] | None = None
        pending: deque[Event] = deque([event])
        try:
            while pending:
                ev = pending.popleft()
                started = time.perf_counter()
                effects = self.center.handle(ev, self.clock())
                pending.extend(self._dispatch(effects))
                self._observe(ev, effects, time.perf_counter() - started)
                if first is None:
                    first = effects
        finally:
            self._rearm()  # whatever happened, the next deadline is kept
        return first or []

    def _observe(self, event: Event | None, effects: list[Effect], seconds: float) -> None:
        self.handled += 1
        for observer in self.observers:
            try:
                observer(event, effects, seconds)
            except Exception:  # an observer never breaks the engine
                log.exception("observer failed")

    def _dispatch(self, effects: list[Effect]) -> list[Event]:
        follow: list[Event] = []
        records: list[Effect] = []
        now = self.clock()
        for effect in effects:
            if isinstance(effect, SwitchEffect):
                follow.extend(self.switch.apply(effect, now))
            elif isinstance(effect, ClientEffect):
                self.clients.deliver(effect)
            elif isinstance(effect, StorageEffect):
                records.append(effect)
            elif isinstance(effect, Lookup):
                if self.crm is not None:
                    follow.extend(self.crm.deliver(effect))
                else:
                    follow.append(LookedUp(effect.uniqueid, effect.number, None))
            elif isinstance(effect, Created):
                continue  # the caller of submit() reads it from the returned effects
        if records:  # one hand-over to the writer's thread a step, not one a record
            self.store.deliver_all(records)
        return follow

    # --- the one timer -----------------------------------------------------------------------

    def _rearm(self) -> None:
        core = self.center.next_deadline()
        sw = self.switch.next_deadline()
        deadline = min(core, sw) if sw is not None else core
        if deadline == self._deadline and self._timer is not None:
            return
        if self._timer is not None:
            self._timer.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._timer, self._deadline = None, None
            return
        delay = max(0.0, deadline - self.clock())
        self._deadline = deadline
        self._timer = loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._timer, self._deadline = None, None
        try:
            now = self.clock()
            events: list[Event] = []
            sw = self.switch.next_deadline()
            if sw is not None and sw <= now:
                events.extend(self.switch.on_deadline(now))
            if self.center.next_deadline() <= now:
                started = time.perf_counter()
                effects = self.center.on_deadline(now)
                events.extend(self._dispatch(effects))
                self._observe(None, effects, time.perf_counter() - started)
            for ev in events:
                try:
                    self.submit(ev)
                except Exception:
                    log.exception("event %r failed", ev)
        except Exception:
            # A failure here is a bug; the timer must live on all the same, or ring timeouts,
            # wrap-ups and the day's roll-over would stop for everyone.
            log.exception("timer handling failed")
        finally:
            self._rearm()

    def start(self) -> None:
        """Arm the timer; call once the event loop runs."""
        self._rearm()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._deadline = None, None
