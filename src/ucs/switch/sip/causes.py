"""SIP responses and the document's causes (CONTRACT §9)."""

from __future__ import annotations

from ucs.core.model import Cause

__all__ = ["cause_of", "response_for"]

_CAUSES = {
    486: Cause.BUSY,
    600: Cause.BUSY,
    404: Cause.INVALID_NUMBER,
    484: Cause.INVALID_NUMBER,
    604: Cause.INVALID_NUMBER,
    603: Cause.REJECTED,
    408: Cause.UNAVAILABLE,
    480: Cause.UNAVAILABLE,
}


def cause_of(code: int) -> Cause:
    """The cause of a failed INVITE's final response (anything else: unavailable)."""
    return _CAUSES.get(code, Cause.UNAVAILABLE)


_RESPONSES = {
    Cause.BUSY: (486, "Busy Here"),
    Cause.INVALID_NUMBER: (404, "Not Found"),
    Cause.REJECTED: (603, "Decline"),
    Cause.UNAVAILABLE: (480, "Temporarily Unavailable"),
}


def response_for(cause: Cause) -> tuple[int, str]:
    """The final response that refuses a caller not yet answered, for the call's cause."""
    return _RESPONSES.get(cause, (487, "Request Terminated"))
