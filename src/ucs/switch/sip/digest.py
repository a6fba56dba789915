"""HTTP digest authentication of phones (RFC 2617 / RFC 3261 §22, MD5, qop=auth).

A nonce is made by the server: the time it was made (milliseconds), a random salt, and an HMAC
of both and of the address it was sent to, with a key only this process knows. So a nonce needs
no table to be checked, it is good for ``NONCE_TTL`` seconds, and only from the address it was
sent to (a header captured and sent from elsewhere is refused). Each use of a nonce is
remembered until it runs out: with ``qop=auth`` the nonce count must grow with each request,
without qop a nonce is good once. Only uses with the right password are remembered, and at most
``MAX_NONCES`` of them: when more are in use, the oldest are forgotten and every nonce made
before them taken for stale, so a forgotten use can never be replayed.
"""

from __future__ import annotations

import collections
import enum
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["MAX_NONCES", "NONCE_TTL", "Credentials", "Digest", "Verdict"]

NONCE_TTL = 60.0
"""Seconds a nonce may be used; then the phone is challenged again with ``stale=true``."""
MAX_NONCES = 10_000
"""Nonce uses remembered at most (about 200 bytes each)."""

_ONCE = 1 << 32
"""The count recorded for a use without qop: no use may follow (nc has 8 hex digits)."""
_NC = re.compile(r"[0-9a-fA-F]{8}")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a phone's Authorization (or Proxy-Authorization) header says."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    qop: str | None = None
    nc: str | None = None
    cnonce: str | None = None


class Verdict(enum.Enum):
    """What a request's credentials are worth."""

    OK = "ok"
    """The right password, with a nonce of ours used for the first time (or a higher nc)."""
    STALE = "stale"
    """The right password with a nonce that ran out: challenge again, ``stale=true``."""
    REPLAYED = "replayed"
    """The right response, but for a nonce already used so, sent to another address or made
    by another process: a captured header, a phone that moved, or a restart; challenged
    again with ``stale=true``."""
    WRONG = "wrong"
    """Not the right response, or not a nonce of ours: a failure."""


@dataclass
class Digest:
    """Nonces, and the check of a response to one (owns the memory of nonces used)."""

    realm: str = "ucs"
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    ttl: float = NONCE_TTL
    capacity: int = MAX_NONCES
    clock: Callable[[], float] = time.time
    _used: collections.OrderedDict[str, tuple[int, int]] = field(
        default_factory=collections.OrderedDict, repr=False
    )
    """Nonces used, oldest use first: when each was made (ms) and the highest count used."""
    _floor: int = 0
    """Nonces made at or before this (ms) are stale: their uses may have been forgotten."""

    def _mac(self, stamp: str, salt: str, source: str) -> str:
        text = f"{stamp}.{salt}.{source}".encode()
        return hmac.new(self.key, text, hashlib.sha256).hexdigest()[:32]

    def nonce(self, source: str) -> str:
        """A new nonce for a request from ``source`` (``host:port``)."""
        stamp, salt = f"{int(self.clock() * 1000):x}", secrets.token_hex(6)
        return f"{stamp}.{salt}.{self._mac(stamp, salt, source)}"

    def challenge(self, source: str, *, stale: bool = False) -> str:
        """The value of a WWW-Authenticate / Proxy-Authenticate header."""
        nonce = self.nonce(source)
        value = f'Digest realm="{self.realm}", nonce="{nonce}", qop="auth", algorithm=MD5'
        return value + (", stale=true" if stale else "")

    def verify(self, creds: Credentials, method: str, password: str, source: str) -> Verdict:
        """Whether ``creds`` prove the password for this request from ``source``; an ``OK``
        use is remembered, so that the same credentials are never ``OK`` again."""
        if not self._right(creds, method, password):
            return Verdict.WRONG
        stamp, _, rest = creds.nonce.partition(".")
        salt, _, mac = rest.partition(".")
        try:
            born = int(stamp, 16)
        except ValueError:
            return Verdict.WRONG
        if not hmac.compare_digest(mac.encode(), self._mac(stamp, salt, source).encode()):
            return Verdict.REPLAYED  # the right response to a nonce sent elsewhere (or before)
        now = int(self.clock() * 1000)
        if born <= self._floor or now - born > self.ttl * 1000 or born > now + 1000:
            return Verdict.STALE
        count = int(creds.nc, 16) if creds.qop and creds.nc else _ONCE
        used = self._used.get(creds.nonce)
        if used is not None and (count == _ONCE or count <= used[1]):
            return Verdict.REPLAYED
        self._remember(creds.nonce, born, count, now)
        return Verdict.OK

    def _right(self, creds: Credentials, method: str, password: str) -> bool:
        """The response is right for this password, method and nonce."""
        if creds.qop is not None and (
            creds.qop != "auth" or not creds.cnonce or not _NC.fullmatch(creds.nc or "")
        ):
            return False
        ha1 = _md5(f"{creds.username}:{creds.realm}:{password}")
        ha2 = _md5(f"{method}:{creds.uri}")
        if creds.qop:
            want = _md5(f"{ha1}:{creds.nonce}:{creds.nc}:{creds.cnonce}:{creds.qop}:{ha2}")
        else:
            want = _md5(f"{ha1}:{creds.nonce}:{ha2}")
        return hmac.compare_digest(want.encode(), creds.response.lower().encode())

    def _remember(self, nonce: str, born: int, count: int, now: int) -> None:
        self._used[nonce] = (born, count)
        self._used.move_to_end(nonce)
        while self._used:
            oldest, (made, _) = next(iter(self._used.items()))
            if now - made <= self.ttl * 1000 and len(self._used) <= self.capacity:
                break
            del self._used[oldest]
            self._floor = max(self._floor, made)

    def remembered(self) -> int:
        """How many nonce uses are remembered now."""
        return len(self._used)
