"""A supervisor's listen, whisper and barge (CONTRACT §11), as the core decides them.

``listen(userId)``, ``whisper(userId)`` and ``barge(userId)`` join the supervisor's own phone
(the browser softphone) to the connected call of an agent of their team: listening hears both
sides and is heard by nobody; whispering is heard by the agent alone (the agent's browser is
told, ``monitor.coach``, to open a second connection that hears the supervisor); barging is
heard by both. Calling another one changes the mode on the same monitoring; ``hangup()``
with no call of their own ends it; so does the call's end, or the agent leaving it. The
monitoring is no call of the supervisor's: the agent's and the caller's call is unaffected,
and it is in no call record. The core keeps who monitors which call
(``Center.monitors``), says so with ``Monitor`` effects that the media adapter carries out, and
tells the supervisor's tabs with ``monitor.changed`` pushes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ucs.core.effects import Monitor, Push
from ucs.core.errors import InvalidState, MediaUnavailable, NotFound
from ucs.core.ids import AgentId, ClientId, UniqueId
from ucs.core.model import CallState, Side
from ucs.core.softphone import is_softphone
from ucs.core.supervision import require_supervisor, team_member

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["HANDLERS", "Monitoring", "end", "sweep"]

MODES = ("listen", "whisper", "barge")


@dataclass(slots=True)
class Monitoring:
    uniqueid: UniqueId
    agent: AgentId
    """The agent whose call it is."""
    mode: str


def _on_softphone(c: Center, agent: AgentId) -> bool:
    session = c.sessions.get(agent)
    return c.media_available and session is not None and is_softphone(session.line)


def _tell(c: Center, supervisor: AgentId, m: Monitoring, mode: str | None, was: str | None) -> None:
    c.out.effects.append(Monitor(m.uniqueid, int(supervisor), mode))
    body = {"uniqueid": m.uniqueid, "userId": int(m.agent), "mode": mode}
    c.out.effects.append(Push(supervisor, "monitor.changed", body))
    if (mode == "whisper") != (was == "whisper"):  # the agent's browser hears the coach or not
        coach = {"uniqueid": m.uniqueid, "on": mode == "whisper"}
        c.out.effects.append(Push(m.agent, "monitor.coach", coach))


def end(c: Center, supervisor: AgentId) -> bool:
    """End the supervisor's monitoring, if any; whether there was one."""
    m = c.monitors.pop(supervisor, None)
    if m is None:
        return False
    _tell(c, supervisor, m, None, m.mode)
    return True


def sweep(c: Center) -> None:
    """End the monitorings whose call ended, whose agent left it, or whose supervisor left."""
    for supervisor, m in list(c.monitors.items()):
        call = c.calls.get(m.uniqueid)
        if (
            call is None
            or call.side_of(m.agent) not in (Side.CALLER, Side.CONNECTED)
            or supervisor not in c.sessions
        ):
            end(c, supervisor)


def _monitor(c: Center, agent: AgentId | None, user_id: int, mode: str) -> Any:
    sup = require_supervisor(c, agent)
    me = AgentId(sup.id)
    target = team_member(c, sup, user_id)
    call = c.book.focus(target)
    if (
        call is None
        or call.side_of(target) not in (Side.CALLER, Side.CONNECTED)
        or call.state not in (CallState.CONNECTED, CallState.HELD)
    ):
        raise NotFound(f"{c.agents[target].config.username} has no connected call")
    if not _on_softphone(c, target):
        raise MediaUnavailable("the agent's call is not on the softphone: its audio is not here")
    if not _on_softphone(c, me):
        raise MediaUnavailable("monitoring needs your softphone (selectIdentifier('softphone'))")
    if c.agent_calls.get(me):
        raise InvalidState("hang up your own call first")
    current = c.monitors.get(me)
    if current is not None and current.uniqueid != call.uniqueid:
        end(c, me)
        current = None
    was = None
    if current is None:
        current = c.monitors[me] = Monitoring(call.uniqueid, target, mode)
    elif current.mode == mode:
        return _wire(current)
    else:
        was = current.mode
    current.mode = mode
    _tell(c, me, current, mode, was)
    return _wire(current)


def _wire(m: Monitoring) -> dict[str, Any]:
    return {"uniqueid": m.uniqueid, "userId": int(m.agent), "mode": m.mode}


def listen(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    return _monitor(c, agent, a["userId"], "listen")


def whisper(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    return _monitor(c, agent, a["userId"], "whisper")


def barge(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    return _monitor(c, agent, a["userId"], "barge")


HANDLERS = {"listen": listen, "whisper": whisper, "barge": barge}
"""The supervisors' monitoring methods (CONTRACT §11), beside ``methods.HANDLERS``."""
