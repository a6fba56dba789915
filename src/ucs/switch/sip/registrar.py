"""Where each phone is: the registrar's bindings, by phone identifier."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

__all__ = ["Binding", "Registrar"]


@dataclass(frozen=True, slots=True)
class Binding:
    identifier: str
    host: str
    port: int
    contact: str
    """The Contact URI the phone registered."""
    expires: float
    """Wall-clock time when the binding ends."""


@dataclass
class Registrar:
    max_expires: int = 3600
    min_expires: int = 60
    bindings: dict[str, Binding] = field(default_factory=dict)
    last: dict[str, tuple[str, int]] = field(default_factory=dict)
    """The Call-ID and CSeq of the last REGISTER that changed each phone's binding."""

    def in_order(self, identifier: str, call_id: str, cseq: int) -> bool:
        """Whether a REGISTER may change the binding (RFC 3261 10.3, step 7): one of the same
        Call-ID as the last must have a higher CSeq (an older request that arrives late, an
        unregister say, must not undo a newer one). Remembers it when it may."""
        last = self.last.get(identifier)
        if last is not None and last[0] == call_id and cseq <= last[1]:
            return False
        self.last[identifier] = (call_id, cseq)
        return True

    def bind(
        self, identifier: str, host: str, port: int, contact: str, expires: int, now: float
    ) -> int:
        """Register (or, with 0, unregister) a phone; the seconds granted."""
        if expires <= 0:
            self.bindings.pop(identifier, None)
            return 0
        granted = max(self.min_expires, min(expires, self.max_expires))
        self.bindings[identifier] = Binding(identifier, host, port, contact, now + granted)
        return granted

    def restore(self, bindings: list[Binding]) -> None:
        """Take back bindings saved before a restart (phones re-register only when theirs
        run out)."""
        for b in bindings:
            self.bindings[b.identifier] = b

    def where(self, identifier: str, now: float | None = None) -> Binding | None:
        b = self.bindings.get(identifier)
        if b is not None and b.expires < (time.time() if now is None else now):
            del self.bindings[identifier]
            return None
        return b
