"""The one small Protocol every telephone switch implements.

The core decides and returns switch effects (``Ring``, ``PickUp``, ``Originate``, ``Hold``,
``Transfer``, ``Redirect``, ``Hangup`` …). A switch carries each one out and reports what
happened as core events: at once (the return of ``apply``), later on its own clock
(``next_deadline``/``on_deadline``, the simulated switch), or whenever the network says so
(a real switch calls the engine's ``submit`` from its own protocol handlers). Failures come back
as ``SwitchFailed``; causes as the document numbers them.
"""

from __future__ import annotations

from typing import Protocol

from ucs.core.effects import SwitchEffect
from ucs.core.events import Event

__all__ = ["Switch"]


class Switch(Protocol):
    def apply(self, effect: SwitchEffect, now: float) -> list[Event]:
        """Carry out one effect; return the events that follow at once."""
        ...

    def next_deadline(self) -> float | None:
        """When ``on_deadline`` must next be called, if the switch keeps time itself."""
        ...

    def on_deadline(self, now: float) -> list[Event]:
        """Events whose time has come."""
        ...
