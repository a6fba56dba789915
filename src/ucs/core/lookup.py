"""Caller lookup in the CRM (CONTRACT §12): what the core knows of it, owned by ``Lookups``.

Before a call from outside is offered (to a queue or an extension) the core asks the CRM who
calls (a ``Lookup`` effect; the adapter in ``ucs.crm`` makes the HTTP request) and the call
waits, *lookup pending*, until the answer comes (``LookedUp``) or the lookup's deadline
(``LookupExpires``, a timer like any other), whichever is first: a CRM that never answers costs
exactly ``timeout``. An agent's ``dial`` to an outside number is looked up too, without waiting:
the answer fills the call when it comes.

``Lookups`` owns the setting (``timeout``: None, lookups off), the calls held for their lookup
(each with where it goes once done) and the answers of the last 60 s, per number, so a caller
who calls again within a minute is not looked up again. It knows nothing of the ``Center``:
``telephony`` holds and releases calls through it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ucs.core.call import Call
from ucs.core.ids import LineId, QueueId, UniqueId

__all__ = ["CACHE_SECONDS", "Answer", "Held", "Lookups"]

CACHE_SECONDS = 60.0
"""How long an answer of the CRM is used for further calls of the same number."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What the CRM said of a number (checked and cut to size by the adapter)."""

    name: str | None = None
    external_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def fill(self, call: Call) -> None:
        """Put the answer in the call: its ``name``, ``external_id`` and ``data`` merged."""
        if self.name is not None:
            call.name = self.name
        if self.external_id is not None:
            call.external_id = self.external_id
        if self.data:
            call.data = {**call.data, **self.data}


@dataclass(frozen=True, slots=True)
class Held:
    """A call waiting for its lookup: where it goes once done (a queue or one of our lines)."""

    expires: float
    queue: QueueId | None = None
    line: LineId | None = None


class Lookups:
    """The lookup setting, the calls waiting for their lookup, and the recent answers."""

    __slots__ = ("_answers", "_held", "timeout")

    def __init__(self) -> None:
        self.timeout: float | None = None
        """Seconds a call waits for the CRM at most; None: no lookups."""
        self._held: dict[UniqueId, Held] = {}
        self._answers: OrderedDict[str, tuple[float, Answer]] = OrderedDict()

    def configure(self, timeout: float | None) -> None:
        """Lookups on (a timeout in seconds) or off (None); the answers kept are forgotten."""
        self.timeout = timeout
        self._answers.clear()

    def cached(self, number: str, now: float) -> Answer | None:
        """The CRM's answer for the number within the last ``CACHE_SECONDS``, if any."""
        self._expire(now)
        kept = self._answers.get(number)
        return kept[1] if kept is not None else None

    def remember(self, number: str, answer: Answer, now: float) -> None:
        self._answers.pop(number, None)
        self._answers[number] = (now + CACHE_SECONDS, answer)  # kept in the order they expire
        self._expire(now)

    def _expire(self, now: float) -> None:
        answers = self._answers
        while answers:
            number, (until, _) = next(iter(answers.items()))
            if until > now:
                return
            del answers[number]

    def hold(self, uid: UniqueId, held: Held) -> None:
        self._held[uid] = held

    def holds(self, uid: UniqueId, expires: float | None = None) -> bool:
        """The call waits for its lookup (armed to expire at ``expires``, when given)."""
        held = self._held.get(uid)
        return held is not None and (expires is None or held.expires == expires)

    def release(self, uid: UniqueId) -> Held | None:
        """The call's lookup is over: where the call goes now (None: it was not held)."""
        return self._held.pop(uid, None)

    def __len__(self) -> int:
        """Calls waiting for their lookup."""
        return len(self._held)
