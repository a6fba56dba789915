"""The browser softphone as the core sees it: one virtual phone line per agent.

An agent who pairs ``"softphone"`` (CONTRACT §10) gets the line ``-agent_id``: a line id no
phone of the directory can have (theirs are positive), so the rest of the core (offers, rings,
answers, mute) treats it as any phone. The media adapter (``ucs.media``) carries its audio.
Whether a media engine is there is told by the ``MediaStatus`` event; without one, pairing the
softphone is refused with ``MEDIA_UNAVAILABLE``.
"""

from __future__ import annotations

from ucs.core.ids import AgentId, LineId, arrival_seq

__all__ = ["SOFTPHONE", "channel", "is_softphone", "softphone_line", "softphone_owner"]

SOFTPHONE = "softphone"
"""The identifier an agent pairs to use the browser as its phone."""


def softphone_line(agent: AgentId) -> LineId:
    """The agent's softphone line."""
    return LineId(-agent)


def is_softphone(line: LineId | None) -> bool:
    return line is not None and line < 0


def softphone_owner(line: LineId) -> AgentId:
    """The agent whose softphone ``line`` is."""
    return AgentId(-line)


def channel(username: str, uniqueid: str | None) -> str:
    """The channel name of a softphone leg, ``WebRTC/agent1-0000001b``: the agent's username
    and the call's sequence number in hexadecimal, as a PBX names its channels."""
    return f"WebRTC/{username}-{arrival_seq(uniqueid or ''):08x}"
