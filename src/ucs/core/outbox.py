"""What one step of the ``Center`` produces, kept until the step's end consumes it.

The ``Outbox`` owns the effects going out and the notes of what changed on the way: the agents
touched (their statistics and availability to bring up to date), the calls touched, who left
which call (and why), and the sessions changed. ``distribution`` reads the notes to bring its
indexes up to date, ``publish`` turns them into messages, and ``take()`` hands the effects to
the runtime. One outbox serves every step: nothing is allocated for it per event.
"""

from __future__ import annotations

from ucs.core.effects import Effect
from ucs.core.ids import AgentId, UniqueId
from ucs.core.model import Cause

__all__ = ["Outbox"]


class Outbox:
    """Effects out and what changed, for one step."""

    __slots__ = ("agents_touched", "calls_touched", "effects", "left", "sessions_touched")

    def __init__(self) -> None:
        self.effects: list[Effect] = []
        """What the runtime must do, in order."""
        self.agents_touched: set[AgentId] = set()
        """Agents whose statistics, availability or freedom may have changed."""
        self.calls_touched: dict[UniqueId, None] = {}
        """Calls that changed, in the order they first did (a dict as an ordered set)."""
        self.left: dict[tuple[UniqueId, AgentId], Cause] = {}
        """Agents who left a call this step, with the cause they are told."""
        self.sessions_touched: set[AgentId] = set()
        """Agents whose session (phase, phone, settings, availability) changed."""

    def take(self) -> list[Effect]:
        """The step's effects, handed over; the outbox starts empty for the next step."""
        out, self.effects = self.effects, []
        return out
