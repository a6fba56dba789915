"""SSO tokens (CONTRACT §4), pure: the clock and the replay memory are passed in.

``token = base64(sha1(secret + username + timestamp) + username + timestamp)`` with the raw
20-byte digest, the timestamp in whole Unix seconds as decimal digits, all as UTF-8 bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import hmac
from dataclasses import dataclass, field

from ucs.core.errors import Unauthorized

__all__ = ["DEFAULT_WINDOW", "ReplayMemory", "make_token", "verify_token"]

DEFAULT_WINDOW = 300.0
"""How far (seconds) a token's timestamp may be from the server's clock."""
_DIGEST = 20
_MAX_TOKEN = 4096


def _digest(secret: str, username: str, timestamp: str) -> bytes:
    return hashlib.sha1((secret + username + timestamp).encode("utf-8")).digest()


def make_token(secret: str, username: str, timestamp: int) -> str:
    """A token for ``username`` made at ``timestamp`` (Unix seconds)."""
    ts = str(int(timestamp))
    raw = _digest(secret, username, ts) + (username + ts).encode("utf-8")
    return base64.b64encode(raw).decode("ascii")


@dataclass(slots=True)
class ReplayMemory:
    """Tokens already accepted, each remembered until it could no longer pass the clock check."""

    _seen: dict[str, float] = field(default_factory=dict)
    _expiry: list[tuple[float, str]] = field(default_factory=list)
    """The same tokens as a heap by when they may be forgotten: pruning looks at expired ones
    only, not at every token remembered."""

    def __contains__(self, token: str) -> bool:
        return token in self._seen

    def __len__(self) -> int:
        return len(self._seen)

    def remember(self, token: str, until: float) -> None:
        self._seen[token] = until
        heapq.heappush(self._expiry, (until, token))

    def prune(self, now: float) -> None:
        """Forget tokens whose time has passed; they fail the clock window anyway."""
        while self._expiry and self._expiry[0][0] < now:
            until, token = heapq.heappop(self._expiry)
            if self._seen.get(token) == until:
                del self._seen[token]


def verify_token(
    secret: str,
    username: str,
    token: object,
    now: float,
    replay: ReplayMemory,
    window: float = DEFAULT_WINDOW,
) -> None:
    """Accept ``token`` for ``username`` once, or raise ``Unauthorized`` saying why.

    On success the token is remembered in ``replay`` so that it is never accepted again.
    """
    if not secret:
        raise Unauthorized("SSO is not configured on this server")
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN:
        raise Unauthorized("SSO token is missing or malformed")
    try:
        raw = base64.b64decode(token.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise Unauthorized("SSO token is not valid base64") from None
    digest, rest = raw[:_DIGEST], raw[_DIGEST:]
    name = username.encode("utf-8")
    if len(digest) != _DIGEST or not rest.startswith(name):
        raise Unauthorized(f"SSO token was not made for user {username!r}")
    ts_bytes = rest[len(name) :]
    ts = ts_bytes.decode("ascii") if ts_bytes.isascii() else ""
    # Plain decimal digits with no leading zero: otherwise the token of user "agent10" would
    # read as user "agent1" with the timestamp "0…".
    if not ts.isdigit() or len(ts) > 12 or ts != str(int(ts)):
        raise Unauthorized("SSO token has no valid timestamp")
    if abs(now - int(ts)) > window:
        raise Unauthorized(f"SSO token timestamp {ts} is outside the {int(window)} s window")
    if not hmac.compare_digest(digest, _digest(secret, username, ts)):
        raise Unauthorized("SSO token signature does not match")
    # Remember the decoded bytes, so another spelling of the same token is a replay too.
    canonical = base64.b64encode(raw).decode("ascii")
    replay.prune(now)
    if canonical in replay:
        raise Unauthorized("SSO token was already used")
    replay.remember(canonical, int(ts) + window)
