"""HTTP digest authentication of phones (RFC 2617 / RFC 3261 §22, MD5, qop=auth).

Nonces are stateless: a time stamp and an HMAC of it with a key only this server knows, so that
any number of registrations need no memory, and a nonce older than ``NONCE_TTL`` is stale.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

__all__ = ["NONCE_TTL", "Credentials", "Digest"]

NONCE_TTL = 300.0


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


@dataclass
class Digest:
    realm: str = "ucs"
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def nonce(self, now: float | None = None) -> str:
        stamp = f"{int(time.time() if now is None else now):x}"
        mac = hmac.new(self.key, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{stamp}.{mac}"

    def challenge(self, *, stale: bool = False) -> str:
        """The value of a WWW-Authenticate / Proxy-Authenticate header."""
        value = f'Digest realm="{self.realm}", nonce="{self.nonce()}", qop="auth", algorithm=MD5'
        return value + (", stale=true" if stale else "")

    def fresh(self, nonce: str, now: float | None = None) -> bool:
        stamp, _, mac = nonce.partition(".")
        good = hmac.new(self.key, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(mac, good):
            return False
        try:
            born = int(stamp, 16)
        except ValueError:
            return False
        return (time.time() if now is None else now) - born <= NONCE_TTL

    def check(self, creds: Credentials, method: str, password: str) -> bool:
        """The response is right for this password (the nonce's age is ``fresh``'s business)."""
        ha1 = _md5(f"{creds.username}:{creds.realm}:{password}")
        ha2 = _md5(f"{method}:{creds.uri}")
        if creds.qop:
            want = _md5(f"{ha1}:{creds.nonce}:{creds.nc}:{creds.cnonce}:{creds.qop}:{ha2}")
        else:
            want = _md5(f"{ha1}:{creds.nonce}:{ha2}")
        return hmac.compare_digest(want, creds.response.lower())
