"""Deserted softphones: an agent whose phone is the browser softphone has no phone once the
last tab of its session closes, so it must not stay READY for callers (no ghost agents).

When the last connection leaves such a session, ``Deserted.left`` arms a
``SoftphoneDeserted`` timer ``grace`` seconds on (``GRACE`` unless the server is set
otherwise); a connection that joins the session in the meantime (a reload, a network blip the
component recovers from, another tab) calls ``back`` and the timer goes stale. If it still
stands when due, the ``Center`` puts the agent OFFLINE (the session itself stays: opening the
component again goes straight to READY, and the agent chooses a status).
A desk phone rings whether a tab is open or not, so its agents are left as they are.
"""

from __future__ import annotations

from ucs.core.ids import AgentId

__all__ = ["GRACE", "Deserted"]

GRACE = 30.0
"""Seconds a softphone session may have no connection before its agent goes OFFLINE."""


class Deserted:
    """The softphone sessions with no connection, and when each was left."""

    __slots__ = ("_since", "grace")

    def __init__(self, grace: float = GRACE) -> None:
        self.grace = grace
        self._since: dict[AgentId, float] = {}

    def left(self, agent: AgentId, now: float) -> float:
        """The last connection left the agent's softphone session at ``now``: when the agent
        goes OFFLINE unless one comes back."""
        self._since[agent] = now
        return now + self.grace

    def back(self, agent: AgentId) -> None:
        """A connection is in the session again (or the session ended): nothing to do."""
        self._since.pop(agent, None)

    def holds(self, agent: AgentId, due: float) -> bool:
        """The session has been deserted since ``due - grace`` without a break."""
        since = self._since.get(agent)
        return since is not None and since + self.grace == due
