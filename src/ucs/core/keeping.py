"""A new call rings nobody until its record is kept (CONTRACT §13: every call created is in
the call records exactly once, a node that dies included).

A call from outside is written to the call records as soon as it exists (a *live* record, made
ended with cause 0 after a restart or a take-over). A server killed in the few milliseconds
between the call's creation and that record's commit would leave a call that rang an agent and
is in no record. So, when ``wait`` is set, the core asks the store to tell it when the records
of the step are kept (``Keep``, answered by ``Kept`` once they are committed, or fsynced in the
journal while the database is away), and until then the caller waits in its queue (heard, and
counted, as any caller) but is offered to nobody, and a call for one of our phones does not
ring it. A store that has not said so within ``wait`` seconds (``KeepExpires``, a timer like
any other) lets the call go on all the same: a caller is never held for a slow disk.

``Keeping`` owns the setting and the calls not yet kept, each with when it stops waiting and,
for a call that rings a phone, where it goes then. ``keep`` starts the wait of a new call (from
outside, or a callback request); ``telephony`` releases calls through it (``on_kept``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ucs.core.call import Call
from ucs.core.effects import Keep
from ucs.core.ids import UniqueId
from ucs.core.lookup import Held
from ucs.core.timers import KeepExpires

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["Keeping", "keep"]


def keep(c: Center, call: Call) -> None:
    """With keeping on, the new call rings nobody until the store says its record is kept
    (``Kept``) or ``Keeping.wait`` has passed (``KeepExpires``)."""
    expires = c.keeping.hold(call.uniqueid, c.now)
    if expires is not None:
        c.timers.arm(expires, KeepExpires(call.uniqueid, expires))
        c.out.effects.append(Keep(call.uniqueid))


class Keeping:
    """The setting, and the calls whose record is not known to be kept yet."""

    __slots__ = ("_unkept", "wait")

    def __init__(self, wait: float | None = None) -> None:
        self.wait = wait
        """Seconds a new call waits at most for its record to be kept; None: it never waits."""
        self._unkept: dict[UniqueId, tuple[float, Held | None]] = {}

    def hold(self, uid: UniqueId, now: float) -> float | None:
        """The call's record is on its way: when it stops waiting for it (None: keeping is
        off, the call goes on at once)."""
        if self.wait is None:
            return None
        expires = now + self.wait
        self._unkept[uid] = (expires, None)
        return expires

    def __contains__(self, uid: object) -> bool:
        """The call's record is not known to be kept yet (it must not ring anybody)."""
        return uid in self._unkept

    def holds(self, uid: UniqueId, expires: float) -> bool:
        """The call still waits, under the deadline ``expires`` (its timer stands)."""
        kept = self._unkept.get(uid)
        return kept is not None and kept[0] == expires

    def defer(self, uid: UniqueId, held: Held) -> bool:
        """Where the call goes once kept, if it still waits (True); else False: go on now."""
        kept = self._unkept.get(uid)
        if kept is None:
            return False
        self._unkept[uid] = (kept[0], held)
        return True

    def release(self, uid: UniqueId) -> Held | None:
        """The call's record is kept (or it waited long enough): where it was deferred to
        go, if anywhere."""
        kept = self._unkept.pop(uid, None)
        return kept[1] if kept is not None else None

    def __len__(self) -> int:
        """Calls whose record is not known to be kept yet."""
        return len(self._unkept)
