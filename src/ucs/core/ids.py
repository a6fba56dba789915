"""Typed identifiers, so that an agent id is never mistaken for a queue or line id."""

from __future__ import annotations

from typing import NewType

__all__ = ["AgentId", "ClientId", "LineId", "QueueId", "RequestId", "UniqueId"]

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
