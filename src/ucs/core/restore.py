"""What a restart gives back to the ``Center`` (``Center.restore``): sessions as they were saved
(``SessionRecord``); agents restore their own state (``Agent.restore``)."""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Any

from ucs.core.ids import LineId
from ucs.core.model import Phase
from ucs.core.session import Session

__all__ = ["saved_session"]


def saved_session(saved: Mapping[str, Any], lines: Container[LineId]) -> Session | None:
    """The session saved before the restart, None when there was none; a phone no longer
    among ``lines`` (the directory's) is let go: the session goes back to IDENTIFY."""
    if saved.get("phase") is None:
        return None
    line = saved.get("line")
    session = Session(
        phase=Phase(saved["phase"]),
        identifier=saved.get("identifier"),
        line=LineId(line) if line is not None else None,
        last_identifier=saved.get("last_identifier"),
        ringing_sound=saved.get("ringing_sound") or "default",
        theme=saved.get("theme") or "default",
    )
    if session.line is not None and session.line not in lines:
        session.phase, session.identifier, session.line = Phase.IDENTIFY, None, None
    return session
