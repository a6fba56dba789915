"""The component session: states CREDENTIALS / IDENTIFY / DEVICE / READY, the method table of
CONTRACT §5 with its aliases, argument validation, and login throttling.

``bind(method, args, phase)`` resolves an alias, refuses a method the phase does not allow
(``INVALID_STATE``) and checks every argument (``INVALID_ARGUMENT``), returning the arguments
by name. It never changes anything, so a refused command changes nothing.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ucs.core.errors import InvalidArgument, InvalidState, TooManyAttempts
from ucs.core.ids import ClientId, LineId
from ucs.core.model import RINGING_SOUNDS, THEMES, Phase, Status

__all__ = [
    "ALIASES",
    "MAX_DATA",
    "METHODS",
    "MethodSpec",
    "Param",
    "Session",
    "Throttle",
    "bind",
    "canonical",
    "data_size",
]

_ANY = frozenset(Phase)
_READY = frozenset({Phase.READY})
_MAX_TEXT = 256
MAX_DATA = 16 * 1024
"""Largest ``data`` object of a call (``dial``, the simulator, callbacks) or an agent, in bytes
of compact JSON: CRM data is a few fields, and every push about the call carries it."""


def _text(name: str, *, empty: bool = False, limit: int = _MAX_TEXT) -> Callable[[Any], Any]:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise InvalidArgument(f"{name} must be a string, not {type(value).__name__}")
        if not empty and not value.strip():
            raise InvalidArgument(f"{name} must not be empty")
        if len(value) > limit:
            raise InvalidArgument(f"{name} is longer than {limit} characters")
        return value

    return check


def _optional_text(name: str) -> Callable[[Any], Any]:
    inner = _text(name)

    def check(value: Any) -> str | None:
        return None if value is None else str(inner(value))

    return check


def _bool(name: str) -> Callable[[Any], Any]:
    def check(value: Any) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            raise InvalidArgument(f"{name} must be true or false, not {value!r}")
        return value

    return check


def _int_id(name: str) -> Callable[[Any], Any]:
    def check(value: Any) -> int:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
            raise InvalidArgument(f"{name} must be a positive integer id, not {value!r}")
        return value

    return check


def _optional_int_id(name: str) -> Callable[[Any], Any]:
    inner = _int_id(name)

    def check(value: Any) -> int | None:
        return None if value is None else int(inner(value))

    return check


def _enum(name: str, allowed: Sequence[str]) -> Callable[[Any], Any]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise InvalidArgument(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
        return value

    return check


def _status(value: Any) -> Status:
    return Status(_enum("status", [s.value for s in Status])(value))


def _dial_queue(value: Any) -> int | str:
    if value is None or value == "undefined":
        return "undefined"
    if value == "directCall":
        return "directCall"
    try:
        return int(_int_id("queue")(value))
    except InvalidArgument:
        raise InvalidArgument(
            f'queue must be a queue id, "directCall" or "undefined"; got {value!r}'
        ) from None


def _number(value: Any) -> Any:
    # Digits and length are checked by numbers.parse_dialable, which knows the region.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidArgument(f"number must be a string, not {type(value).__name__}")
    return value


def data_size(value: Any) -> int:
    """Bytes of ``value`` as compact JSON in UTF-8: what ``MAX_DATA`` bounds."""
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    except (ValueError, RecursionError):
        return MAX_DATA + 1  # not JSON at all: too much, whatever its length
    return len(text.encode("utf-8", "surrogatepass"))


def _data(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidArgument(f"data must be an object, not {type(value).__name__}")
    if data_size(value) > MAX_DATA:
        raise InvalidArgument(f"data is larger than {MAX_DATA} bytes as JSON")
    return dict(value)


def _timeout(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InvalidArgument(f"timeout must be a non-negative number or null, not {value!r}")
    return float(value)


def _bound_state(value: Any) -> str | None:
    if value is None:
        return None
    return str(_enum("boundState", [p.value for p in Phase])(value))


def _other(value: Any) -> dict[str, Any]:
    return _data(value)


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    check: Callable[[Any], Any]
    required: bool = True
    default: Any = None


@dataclass(frozen=True, slots=True)
class MethodSpec:
    name: str
    allowed: frozenset[Phase]
    params: tuple[Param, ...] = ()
    local: bool = False
    """Carried out by the component alone (sound, notifications); the server never sees it."""


def _m(name: str, allowed: frozenset[Phase], *params: Param, local: bool = False) -> MethodSpec:
    return MethodSpec(name, allowed, params, local)


METHODS: dict[str, MethodSpec] = {
    m.name: m
    for m in (
        _m(
            "login",
            frozenset({Phase.CREDENTIALS}),
            Param("username", _text("username")),
            Param("password", _text("password", empty=True)),
            Param("remember", _bool("remember"), required=False, default=False),
        ),
        _m(
            "sso",
            frozenset({Phase.CREDENTIALS}),
            Param("username", _text("username")),
            Param("token", _text("token", limit=4096)),
            Param("provider", _optional_text("provider"), required=False),
        ),
        _m("logout", frozenset({Phase.IDENTIFY, Phase.DEVICE, Phase.READY})),
        _m(
            "selectIdentifier",
            frozenset({Phase.IDENTIFY, Phase.DEVICE}),
            Param("identifier", _text("identifier")),
        ),
        _m("provision", frozenset({Phase.IDENTIFY, Phase.DEVICE})),
        _m("identify", frozenset({Phase.DEVICE, Phase.READY})),
        _m(
            "changeStatus",
            _READY,
            Param("status", _status),
            Param("reason", _optional_text("reason"), required=False),
        ),
        _m("suspend", _READY, Param("queue", _int_id("queue"))),
        _m("resume", _READY, Param("queue", _int_id("queue"))),
        _m("answer", _READY),
        _m(
            "dial",
            _READY,
            Param("number", _number),
            Param("queue", _dial_queue, required=False, default="undefined"),
            Param("line", _optional_int_id("line"), required=False),
            Param("data", _data, required=False, default={}),
        ),
        _m("hangup", _READY),
        _m("transfer", _READY, Param("number", _number, required=False)),
        _m("finishTransfer", _READY),
        _m("blindTransfer", _READY, Param("number", _number)),
        _m("hold", _READY),
        _m("unhold", _READY),
        _m("mute", _READY),
        _m(
            "setAccountCode",
            _READY,
            Param("uniqueid", _text("uniqueid", limit=64)),
            Param("accountCode", _text("accountCode", limit=64)),
            Param("subAccountCode", _optional_text("subAccountCode"), required=False),
            Param("override", _bool("override"), required=False, default=False),
        ),
        _m("dispositions", _READY, Param("uniqueid", _text("uniqueid", limit=64))),
        _m("state", _READY),
        _m(
            "selectRingingSound",
            _READY,
            Param("ringingSound", _enum("ringingSound", RINGING_SOUNDS)),
        ),
        _m("testRingingSound", _READY, local=True),
        _m("stopRingingSoundTest", _READY, local=True),
        _m(
            "notify",
            _ANY,
            Param("title", _text("title", limit=1000)),
            Param("type", _enum("type", ("error", "warning", "success", "info")), False, "info"),
            Param("unique", _bool("unique"), required=False, default=False),
            Param("timeout", _timeout, required=False),
            Param("boundState", _bound_state, required=False),
            Param("group", _optional_text("group"), required=False),
            Param("other", _other, required=False, default={}),
            local=True,
        ),
        _m("setTheme", _ANY, Param("theme", _enum("theme", THEMES))),
        _m("team", _READY),
        _m("directory", _READY),
        _m(
            "setAgentStatus",
            _READY,
            Param("userId", _int_id("userId")),
            Param("status", _status),
            Param("reason", _optional_text("reason"), required=False),
        ),
        _m("logoutAgent", _READY, Param("userId", _int_id("userId"))),
        _m("listen", _READY, Param("userId", _int_id("userId"))),
        _m("whisper", _READY, Param("userId", _int_id("userId"))),
        _m("barge", _READY, Param("userId", _int_id("userId"))),
        _m("startRecording", _READY),
        _m("stopRecording", _READY),
    )
}
"""Every method of ``window.ucsOperator``, the component states it is allowed in, and its
arguments in order (CONTRACT §5)."""

ALIASES: dict[str, str] = {
    "tribute": "hold",
    "identifier": "selectIdentifier",
    "identificator": "selectIdentifier",
}
"""Other names the document uses for the same methods."""


def canonical(method: str) -> str:
    return ALIASES.get(method, method)


def bind(method: str, args: Sequence[Any] | Mapping[str, Any], phase: Phase) -> dict[str, Any]:
    """Check a call of ``method`` with ``args`` (positional or by name) in ``phase``."""
    if not isinstance(method, str):
        raise InvalidArgument("method must be a string")
    spec = METHODS.get(canonical(method))
    if spec is None:
        raise InvalidArgument(f"unknown method {method!r}")
    if phase not in spec.allowed:
        allowed = ", ".join(p.value for p in Phase if p in spec.allowed)
        raise InvalidState(f"{method} is not allowed in {phase.value} (only in {allowed})")
    if isinstance(args, Mapping):
        unknown = set(args) - {p.name for p in spec.params}
        if unknown:
            raise InvalidArgument(f"{method} has no argument {sorted(unknown)[0]!r}")
        given = dict(args)
    elif isinstance(args, Sequence) and not isinstance(args, str | bytes):
        if len(args) > len(spec.params):
            # JavaScript callers pass trailing undefined freely; anything else is an error.
            extra = list(args[len(spec.params) :])
            if any(a is not None for a in extra):
                raise InvalidArgument(
                    f"{method} takes at most {len(spec.params)} arguments, got {len(args)}"
                )
        given = {p.name: a for p, a in zip(spec.params, args, strict=False)}
    else:
        raise InvalidArgument("arguments must be a list or an object")
    bound: dict[str, Any] = {}
    for p in spec.params:
        value = given.get(p.name)
        if value is None:
            if p.required:
                raise InvalidArgument(f"{method} needs the argument {p.name!r}")
            bound[p.name] = p.default
        else:
            bound[p.name] = p.check(value)
    return bound


@dataclass(slots=True)
class Session:
    """An agent's session, shared by all its connections (tabs, windows, scripts)."""

    phase: Phase = Phase.IDENTIFY
    identifier: str | None = None
    line: LineId | None = None
    last_identifier: str | None = None
    """The phone paired before, offered again by ``provision`` in IDENTIFY."""
    ringing_sound: str = "default"
    theme: str = "default"
    clients: set[ClientId] = field(default_factory=set)


@dataclass(slots=True)
class Throttle:
    """Failed logins (docs/security.md, Logins).

    Usernames of the directory (``known``) each have their own count: ``limit`` failures
    within ``window`` seconds lock that username for ``lockout`` seconds, whatever the
    password. Unknown usernames have no state of their own, so a flood of throwaway names
    neither grows the throttle nor pushes a real name's failures out: every failure, known
    or not, counts in one bucket that holds ``burst`` failures and drains ``rate`` a second.
    While it is full, an unknown username is refused (``TOO_MANY_ATTEMPTS``) before its
    password is looked at, and a wrong password for a known one gets the same answer; the
    right password of a known, unlocked username always gets in.

    Memory: one entry per real username with recent failures or a running lock; entries
    whose failures are older than ``window`` and ended locks are pruned at least once a
    ``window``. The core does no IO: a lock that starts is queued for ``take_locks``, which
    the center turns into a ``LoginLocked`` effect for the adapter to log.
    """

    limit: int = 5
    window: float = 300.0
    lockout: float = 300.0
    burst: float = 100.0
    """Failures the shared bucket holds before it refuses (unknown usernames first)."""
    rate: float = 0.5
    """Failures a second the shared bucket drains: the pace a flood is held to."""
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _locked: dict[str, float] = field(default_factory=dict)
    _level: float = 0.0
    """The bucket's failures at ``_level_at``."""
    _level_at: float = 0.0
    _next_prune: float = 0.0
    _started: list[tuple[str, float]] = field(default_factory=list)

    def __len__(self) -> int:
        """How many usernames the throttle keeps state for."""
        return len(self._failures.keys() | self._locked.keys())

    def check(self, username: str, now: float, *, known: bool) -> None:
        """Refuse an attempt that must not even be tried: a locked username, or an unknown
        one while the bucket is full. Changes nothing a refusal could be told by."""
        self._prune_due(now)
        if not known:
            wait = self._wait(now)
            if wait > 0:
                raise self._too_many(username, wait)
            return
        until = self._locked.get(username)
        if until is not None:
            if now < until:
                raise self._too_many(username, until - now)
            del self._locked[username]

    def failed(self, username: str, now: float, *, known: bool) -> None:
        """Count a failed attempt (after ``check`` let it through). Raises
        ``TooManyAttempts`` while the bucket is full, so that a known username's wrong password
        gets the answer an unknown one gets; the caller answers ``UNAUTHORIZED`` otherwise."""
        self._prune_due(now)
        wait = self._wait(now)
        if wait <= 0:
            self._level = self._drained(now) + 1
            self._level_at = now
        if known:
            failures = self._failures.setdefault(username, deque())
            failures.append(now)
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if len(failures) >= self.limit:
                self._locked[username] = now + self.lockout
                del self._failures[username]
                self._started.append((username, self.lockout))
        if wait > 0:
            raise self._too_many(username, wait)

    def succeeded(self, username: str) -> None:
        self._failures.pop(username, None)

    def take_locks(self) -> list[tuple[str, float]]:
        """The locks that started since the last call: (username, seconds)."""
        started, self._started = self._started, []
        return started

    def _drained(self, now: float) -> float:
        return max(0.0, self._level - (now - self._level_at) * self.rate)

    def _wait(self, now: float) -> float:
        """Seconds until the bucket has room for one more failure (0: it has)."""
        over = self._drained(now) + 1 - self.burst
        return over / self.rate if over > 0 else 0.0

    def _too_many(self, username: str, wait: float) -> TooManyAttempts:
        # The same words for a locked username and a full bucket: they must not be told apart.
        return TooManyAttempts(
            f"too many failed logins for {username!r}; try again in {int(wait) + 1} s"
        )

    def _prune_due(self, now: float) -> None:
        if now < self._next_prune:
            return
        self._next_prune = now + self.window
        for name in [n for n, f in self._failures.items() if not f or f[-1] <= now - self.window]:
            del self._failures[name]
        for name in [n for n, t in self._locked.items() if t <= now]:
            del self._locked[name]
