"""Which phones the switch can ring: ``Registrations`` (all of them, when a registrar starts)
and ``Registration`` (one phone's change), and the warning to an agent whose phone is not
registered. The set itself is the ``Center``'s (``registered``; None while the switch says
nothing of registrations: every phone can be rung).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ucs.core.effects import Push
from ucs.core.errors import SWITCH_FAILURE
from ucs.core.events import Registration, Registrations
from ucs.core.ids import AgentId
from ucs.core.model import Phase

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["on_registration", "on_registrations", "warn_unregistered"]


def on_registrations(c: Center, ev: Registrations) -> None:
    before = c.registered
    c.registered = set(ev.lines)
    for line, agent in c.line_owner.items():
        if before is None or (line in before) != (line in c.registered):
            c.out.agents_touched.add(agent)
            warn_unregistered(c, agent)


def on_registration(c: Center, ev: Registration) -> None:
    """Said again at every refresh of a registration: only a change changes anything."""
    if c.registered is None:
        return  # the switch said nothing of registrations: every phone can be rung
    if (ev.line in c.registered) == ev.registered:
        return
    if ev.registered:
        c.registered.add(ev.line)
    else:
        c.registered.discard(ev.line)
    agent = c.line_owner.get(ev.line)
    if agent is not None:
        c.out.agents_touched.add(agent)
        warn_unregistered(c, agent)


def warn_unregistered(c: Center, agent: AgentId) -> None:
    """Tell the agent (``error``, ``SWITCH_FAILURE``) when the phone it works with is not
    registered: no queue call reaches it, whatever its availability says."""
    session = c.sessions.get(agent)
    if (
        session is None
        or session.phase is not Phase.READY
        or session.line is None
        or c.reachable(session.line)
    ):
        return
    message = (
        f"phone {session.identifier} is not registered: no queue calls reach it until it registers"
    )
    body = {
        "code": SWITCH_FAILURE,
        "message": message,
        "reason": "unregistered",  # for the component to say it in the agent's language
        "identifier": session.identifier,
    }
    c.out.effects.append(Push(agent, "error", body))
