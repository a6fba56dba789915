"""Whose audio is in the media engine, call by call (CONTRACT §10 and §11).

Recording and monitoring need a call's audio in the engine. A softphone's calls always have
it (the browser joins the call's room) while an engine runs. A desk phone's calls have it only
with a switch that anchors its phones' audio (``--switch sip``, ``MediaStatus.phones``) and
only once that switch has put both sides of that call in the call's room: it says so per call
with ``AudioAnchored`` (False: this call cannot be, e.g. an SDP without G.711, and its audio
flows between the endpoints). Until the switch has said, a desk phone's call is *pending*:
an ``always`` recording begins when it says yes (or is said to be unrecorded when it says no);
``startRecording()`` and monitoring are refused meanwhile, as they are for a call that is not
anchored. ``recording.on_audio_anchored`` takes the switch's word.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ucs.core.call import Call
from ucs.core.ids import AgentId
from ucs.core.softphone import is_softphone

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["audio_here"]


def audio_here(c: Center, agent: AgentId, call: Call) -> bool | None:
    """Whether ``agent``'s side of ``call`` is in the media engine: True, False, or None for
    a desk phone's call whose switch anchors phones but has not said yet."""
    session = c.sessions.get(agent)
    if not c.media_available or session is None or session.line is None:
        return False
    if is_softphone(session.line):
        return True
    if not c.phones_audio:
        return False
    return call.anchored
