"""Typed identifiers, so that an agent id is never mistaken for a queue or line id."""

from __future__ import annotations

from typing import NewType

__all__ = ["AgentId", "ClientId", "LineId", "QueueId", "RequestId", "UniqueId", "arrival_seq"]

AgentId = NewType("AgentId", int)
"""Primary key of an agent (the User object's ``id``)."""
QueueId = NewType("QueueId", int)
"""Primary key of a queue (incoming queue or outgoing campaign)."""
LineId = NewType("LineId", int)
"""Primary key of a phone line."""
ClientId = NewType("ClientId", int)
"""One connection of a component or SDK (a tab, a window, a script)."""
RequestId = NewType("RequestId", str)
"""The id a client gave a request, echoed in the reply."""
UniqueId = NewType("UniqueId", str)
"""A call's never-repeating ``uniqueid``."""


def arrival_seq(uniqueid: str) -> int:
    """The sequence number ending a uniqueid (``1700000000.42`` → 42; 0 if none): calls of the
    same second in the order they came."""
    tail = uniqueid.rsplit(".", 1)[-1]
    return int(tail) if tail.isdigit() else 0
