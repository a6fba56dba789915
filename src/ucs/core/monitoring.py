"""A supervisor's listen, whisper and barge (CONTRACT §11), as the core decides them.

``listen(userId)``, ``whisper(userId)`` and ``barge(userId)`` join the supervisor's own phone
(the browser softphone) to the connected call of an agent of their team whose audio is in the
media engine (the agent's softphone, or a desk phone whose call the switch anchored:
``anchoring.py``): listening hears both sides and is heard by nobody; whispering is heard by
the agent alone (the agent's browser is told, ``monitor.coach``, to open a second connection
that hears the supervisor; a desk phone has no second connection: the media plane moves it
into the coach room, see docs/media.md); barging is heard by both. A supervisor
on a desk phone (``--switch sip``) is called on it by the switch (``Monitor.line``) and
listens, whispers or barges from it (the media plane bridges its one audio stream while it
whispers); hanging it up ends the monitoring (``MonitorLeft``). Calling another
one changes the mode on the same monitoring; ``hangup()`` with no call of their own ends it;
so does the call's end, or the agent leaving it. The monitoring is no call of the
supervisor's: the agent's and the caller's call is unaffected, and it is in no call record.
The core keeps who monitors which call (``Center.monitors``), says so with ``Monitor``
effects that the media adapter carries out, and tells the supervisor's tabs with
``monitor.changed`` pushes (and the agent's, ``monitor.coach``; the session snapshot says
both again after a reload: ``monitoring`` and ``coach``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ucs.core.anchoring import audio_here
from ucs.core.effects import Monitor, Push
from ucs.core.errors import InvalidState, MediaUnavailable, NotFound
from ucs.core.events import MonitorLeft
from ucs.core.ids import AgentId, ClientId, LineId, UniqueId
from ucs.core.model import CallState, Side
from ucs.core.softphone import is_softphone
from ucs.core.supervision import require_supervisor, team_member

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["HANDLERS", "Monitoring", "coached", "current", "end", "on_monitor_left", "sweep"]

MODES = ("listen", "whisper", "barge")


@dataclass(slots=True)
class Monitoring:
    uniqueid: UniqueId
    agent: AgentId
    """The agent whose call it is."""
    mode: str
    line: LineId | None = None
    """The supervisor's desk phone the switch calls for it; None: their softphone."""


def _on_softphone(c: Center, agent: AgentId) -> bool:
    session = c.sessions.get(agent)
    return c.media_available and session is not None and is_softphone(session.line)


def _desk_phone(c: Center, agent: AgentId) -> LineId | None:
    """The agent's desk phone, when the switch can call it into a call's audio (it anchors
    its phones' calls in the engine: ``--switch sip``); else None."""
    session = c.sessions.get(agent)
    line = session.line if session is not None else None
    if not (c.media_available and c.phones_audio) or line is None or is_softphone(line):
        return None
    return line


def _tell(c: Center, supervisor: AgentId, m: Monitoring, mode: str | None, was: str | None) -> None:
    c.out.effects.append(Monitor(m.uniqueid, int(supervisor), mode, m.line))
    body = {"uniqueid": m.uniqueid, "userId": int(m.agent), "mode": mode}
    c.out.effects.append(Push(supervisor, "monitor.changed", body))
    if (mode == "whisper") != (was == "whisper"):  # the agent's browser hears the coach or not
        coach = {"uniqueid": m.uniqueid, "on": mode == "whisper"}
        c.out.effects.append(Push(m.agent, "monitor.coach", coach))


def current(c: Center, supervisor: AgentId) -> dict[str, Any] | None:
    """The supervisor's monitoring going on, ``{uniqueid, userId, mode}`` as ``listen()``
    answers it, or None: the session snapshot's ``monitoring``, so that a reloaded tab shows
    it and joins its audio again."""
    m = c.monitors.get(supervisor)
    return _wire(m) if m is not None else None


def coached(c: Center, agent: AgentId) -> list[str]:
    """The agent's calls a supervisor whispers on now: the session snapshot's ``coach``, so
    that a reloaded tab that played the call hears the coach again (as ``monitor.coach``)."""
    return sorted(
        {m.uniqueid for m in c.monitors.values() if m.agent == agent and m.mode == "whisper"}
    )


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
            or (m.line is not None and c.sessions[supervisor].line != m.line)
        ):
            end(c, supervisor)


def on_monitor_left(c: Center, ev: MonitorLeft) -> None:
    """The supervisor's desk phone hung up the monitoring (or was not reached): it ends, the
    agent's call goes on."""
    for supervisor, m in list(c.monitors.items()):
        if m.uniqueid == ev.uniqueid and m.line == ev.line:
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
    if audio_here(c, target, call) is not True:
        raise MediaUnavailable(
            "the agent's call's audio is not in the media engine (a desk phone's call that "
            "could not be anchored, or no engine runs)"
        )
    desk = None if _on_softphone(c, me) else _desk_phone(c, me)
    if desk is None and not _on_softphone(c, me):
        raise MediaUnavailable(
            "monitoring needs your softphone (selectIdentifier('softphone')), or a desk phone "
            "with --switch sip and a media engine"
        )
    if c.agent_calls.get(me):
        raise InvalidState("hang up your own call first")
    current = c.monitors.get(me)
    if current is not None and current.uniqueid != call.uniqueid:
        end(c, me)
        current = None
    was = None
    if current is None:
        current = c.monitors[me] = Monitoring(call.uniqueid, target, mode, desk)
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
