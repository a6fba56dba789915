"""Wire forms built from the live state: the User object and the state object."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ucs.core import dispositions
from ucs.core.agent import Agent
from ucs.core.call import Call
from ucs.core.callbook import CallBook
from ucs.core.directory import Directory, LineConfig
from ucs.core.ids import AgentId, LineId
from ucs.core.model import Phase
from ucs.core.session import Session

__all__ = [
    "dispositions_wire",
    "line_wire",
    "phones_wire",
    "session_wire",
    "state_object",
    "user_wire",
    "welcome",
]


def _secs(x: float) -> int:
    return round(x)


def line_wire(line: LineConfig) -> dict[str, Any]:
    return {
        "id": line.id,
        "identifier": line.identifier,
        "extension": line.extension,
        "name": line.name,
    }


def _agent_lines(agent: Agent, directory: Directory, paired: LineId | None) -> list[LineId]:
    ids: list[LineId] = list(agent.config.lines)
    if paired is not None and paired not in ids:
        ids.append(paired)
    return [i for i in ids if i in directory.lines]


def user_wire(
    agent: Agent, directory: Directory, session: Session | None, now: float
) -> dict[str, Any]:
    """The User object of the document, with today's statistics as of ``now``."""
    s = agent.stats_at(now)
    c = agent.config
    queues: dict[int, dict[str, object]] = {}
    for m in c.memberships:
        q = directory.queues.get(m.queue)
        if q is not None:
            queues[m.queue] = agent.queue_wire(m, q.type, s)
    paired = session.line if session is not None else None
    return {
        "acwtime": _secs(s.acwtime),
        "auxtime": _secs(s.auxtime),
        "auxtimes": {k: _secs(v) for k, v in sorted(s.auxtimes.items())},
        "data": dict(c.data),
        "displayname": c.name,
        "email": c.email,
        "external_id": c.external_id,
        "firstname": c.firstname,
        "group_id": c.group_id,
        "id": c.id,
        "idletime": _secs(s.idletime),
        "in_calls_answered": s.in_calls_answered,
        "in_calls_unanswered": s.in_calls_unanswered,
        "in_ringtime": _secs(s.in_ringtime),
        "in_talktime": _secs(s.in_talktime),
        "lastname": c.lastname,
        "lines": [line_wire(directory.lines[i]) for i in _agent_lines(agent, directory, paired)],
        "locale": c.locale,
        "number": c.number,
        "out_calls_answered": s.out_calls_answered,
        "out_calls_unanswered": s.out_calls_unanswered,
        "out_ringtime": _secs(s.out_ringtime),
        "out_talktime": _secs(s.out_talktime),
        "primary_extension": c.primary_extension,
        "queues": queues,
        "readytime": _secs(s.readytime),
        "ringtime": _secs(s.in_ringtime + s.out_ringtime),
        "status": agent.status.value,
        "superuser": c.superuser,
        "talktime": _secs(s.in_talktime + s.out_talktime),
        "transferred": s.transferred,
        "transferred_external": s.transferred_external,
    }


def session_wire(session: Session | None, agent: Agent) -> dict[str, Any]:
    """What the component shows of the session besides the User object and the calls."""
    return {
        "state": (session.phase if session is not None else Phase.CREDENTIALS).value,
        "identifier": session.identifier if session is not None else None,
        "line": session.line if session is not None else None,
        "ringingSound": session.ringing_sound if session is not None else "default",
        "theme": session.theme if session is not None else "default",
        "status": agent.status.value,
        "reason": agent.reason,
        "statusSince": agent.status_since,
        "acwUntil": agent.acw_until,
    }


def phones_wire(directory: Directory, ids: Iterable[LineId]) -> list[dict[str, Any]]:
    return [line_wire(directory.lines[i]) for i in ids if i in directory.lines]


def dispositions_wire(calls: Iterable[Call], directory: Directory) -> dict[str, Any]:
    """The account codes each call may be given, by uniqueid (``dispositions.choices``)."""
    return {call.uniqueid: dispositions.choices(call, directory.queues) for call in calls}


def welcome(
    a: Agent,
    session: Session | None,
    directory: Directory,
    book: CallBook,
    now: float,
    monitoring: dict[str, Any] | None = None,
    coached: list[str] | None = None,
) -> dict[str, Any]:
    """Everything a connection joining the agent's session needs to show it; ``monitoring``
    the supervisor's listen, whisper or barge going on (``monitoring.current``); ``coached``
    the agent's calls a supervisor whispers on (``monitoring.coached``): a reloaded tab that
    played the call's audio hears the coach again."""
    agent = AgentId(a.config.id)
    queues = [
        {"id": q.id, "name": q.name, "type": int(q.type)}
        for m in a.config.memberships
        if (q := directory.queues.get(m.queue)) is not None
    ]
    return {
        "user": user_wire(a, directory, session, now),
        "session": session_wire(session, a),
        "calls": [book.view(call, agent) for call in book.calls_of(agent)],
        "queues": queues,
        "reasons": list(directory.aux_reasons),
        "recording": [call.uniqueid for call in book.calls_of(agent) if call.recording],
        "dispositions": dispositions_wire(book.calls_of(agent), directory),
        "monitoring": monitoring,
        "coach": coached or [],
    }


def state_object(
    a: Agent, session: Session | None, directory: Directory, book: CallBook, now: float
) -> dict[str, Any]:
    """The state object of CONTRACT §5 (``onReady``, ``onStateChange``, ``state()``)."""
    agent = AgentId(a.config.id)
    calls = book.calls_of(agent)
    focus = book.focus(agent)
    return {
        "state": (session.phase if session else Phase.CREDENTIALS).value,
        "user": user_wire(a, directory, session, now),
        "calls": [book.view(call, agent) for call in calls],
        "call": book.view(focus, agent) if focus is not None else None,
        "identifier": session.identifier if session else None,
        "line": session.line if session else None,
        "ringingSound": session.ringing_sound if session else "default",
        "theme": session.theme if session else "default",
        "auxReasons": list(directory.aux_reasons),
    }
