"""One exception tree for every refusal the core makes, each with its wire code.

::

    UcsError                      (code: the wire string the component and the SDK see)
    ├── InvalidState              INVALID_STATE      not allowed in the current state
    ├── InvalidArgument           INVALID_ARGUMENT   a missing, mistyped or out-of-range argument
    ├── Unauthorized              UNAUTHORIZED       refused credentials or SSO token
    ├── Forbidden                 FORBIDDEN          a supervisor's action the agent has no
    │                                                right to (not a supervisor of the target)
    ├── NotFound                  NOT_FOUND          unknown queue, call, phone identifier or line
    ├── TooManyAttempts           TOO_MANY_ATTEMPTS  too many failed logins for one username
    ├── MediaUnavailable          MEDIA_UNAVAILABLE  no media engine (or no microphone): no
    │                                                softphone, no audio of calls
    └── StorageUnavailable        STORAGE_UNAVAILABLE  neither the database nor the local
                                                       journal can be written: new calls and
                                                       commands are refused, not lost

A refused command changes nothing: the core raises before it mutates anything.

``SWITCH_FAILURE`` is not a refusal: it is the code of the ``error`` message an agent's
connections get when the switch could not carry out what was asked (the command itself had
already been accepted).
Messages are for people and name the offending value.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ERROR_CODES",
    "SWITCH_FAILURE",
    "Forbidden",
    "InvalidArgument",
    "InvalidState",
    "MediaUnavailable",
    "NotFound",
    "StorageUnavailable",
    "TooManyAttempts",
    "UcsError",
    "Unauthorized",
]


SWITCH_FAILURE = "SWITCH_FAILURE"


class UcsError(Exception):
    """Base of every refusal; ``code`` is the wire code."""

    code: ClassVar[str] = "ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_wire(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class InvalidState(UcsError):
    code = "INVALID_STATE"


class InvalidArgument(UcsError):
    code = "INVALID_ARGUMENT"


class Unauthorized(UcsError):
    code = "UNAUTHORIZED"


class Forbidden(UcsError):
    code = "FORBIDDEN"


class NotFound(UcsError):
    code = "NOT_FOUND"


class TooManyAttempts(UcsError):
    code = "TOO_MANY_ATTEMPTS"


class MediaUnavailable(UcsError):
    code = "MEDIA_UNAVAILABLE"


class StorageUnavailable(UcsError):
    """Raised by the runtime, not the core: the core never knows the disk."""

    code = "STORAGE_UNAVAILABLE"


ERROR_CODES: dict[str, type[UcsError]] = {
    cls.code: cls
    for cls in (
        InvalidState,
        InvalidArgument,
        Unauthorized,
        Forbidden,
        NotFound,
        TooManyAttempts,
        MediaUnavailable,
        StorageUnavailable,
    )
}
