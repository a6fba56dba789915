"""Account codes from a configured list (a queue's dispositions): which list applies to a
call, what its agent may choose from, and the check ``setAccountCode`` makes.

The list of a call is its queue's: the queue it came through (incoming calls, callbacks
included), else the campaign it was dialled under. A call of no queue (a direct call, a
consultation) takes any code, and so does a queue without a list, or one whose
``free_text_codes`` is on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ucs.core.call import AccountCode, Call
from ucs.core.directory import QueueConfig
from ucs.core.errors import InvalidArgument, NotFound
from ucs.core.ids import AgentId, ClientId, QueueId

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["account_code", "choices", "offered"]

_LISTED = 10
"""Codes named in a refusal's message (the list may be long)."""


def _queue(call: Call, queues: Mapping[QueueId, QueueConfig]) -> QueueConfig | None:
    """The queue whose dispositions apply to the call (None: no queue)."""
    q = call.home_queue
    return queues.get(q) if q is not None else None


def choices(call: Call, queues: Mapping[QueueId, QueueConfig]) -> dict[str, Any]:
    """What the call's agent may choose: ``{queue, codes: [{accountCode, label}],
    freeText}`` (``queue`` null and ``codes`` empty for a call of no queue)."""
    q = _queue(call, queues)
    if q is None:
        return {"queue": None, "codes": [], "freeText": True}
    return {
        "queue": q.id,
        "codes": [{"accountCode": d.code, "label": d.label} for d in q.dispositions],
        "freeText": q.free_text_codes or not q.dispositions,
    }


def account_code(
    call: Call, queues: Mapping[QueueId, QueueConfig], code: str, sub: str | None
) -> AccountCode:
    """The account code ``setAccountCode`` saves, labelled when it is on the list; raises
    ``InvalidArgument`` for a code the call's queue does not take."""
    q = _queue(call, queues)
    if q is None:
        return AccountCode(code, sub)
    if not q.takes_code(code):
        codes = [d.code for d in q.dispositions]
        listed = ", ".join(codes[:_LISTED]) + (", …" if len(codes) > _LISTED else "")
        raise InvalidArgument(
            f"{code!r} is not an account code of queue {q.id} ({q.name}): choose one of {listed}"
        )
    return AccountCode(code, sub, q.label_of(code))


def offered(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    """``dispositions(uniqueid)``: what one of the agent's calls (live, or ended and still
    kept for wrap-up) may be given, as ``choices``."""
    me = c.require(agent)
    call = c.book.participated(me, a["uniqueid"])
    if call is None:
        raise NotFound(f"no call {a['uniqueid']!r} of yours")
    return choices(call, c.directory.queues)
