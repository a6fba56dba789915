"""The little SDP handling a signalling-only B2BUA needs: the direction of the media (hold),
and an origin line of our own per leg so that each peer sees its session version increase."""

from __future__ import annotations

__all__ = ["DIRECTIONS", "answer_direction", "direction", "restamp", "with_direction"]

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")


def _lines(sdp: str) -> list[str]:
    return [line for line in sdp.replace("\r\n", "\n").split("\n") if line]


def _join(lines: list[str]) -> str:
    return "\r\n".join(lines) + "\r\n"


def direction(sdp: str) -> str:
    """The direction of the first media stream (the session's when the stream has none)."""
    session = "sendrecv"
    media: str | None = None
    in_media = False
    for line in _lines(sdp):
        if line.startswith("m="):
            if in_media:
                break
            in_media = True
        elif line.startswith("a=") and line[2:] in DIRECTIONS:
            if in_media:
                media = line[2:]
            else:
                session = line[2:]
    return media or session


def with_direction(sdp: str, new: str) -> str:
    """The same description with every stream set to ``new`` (sendrecv, sendonly, …)."""
    out: list[str] = []
    for line in _lines(sdp):
        if line.startswith("a=") and line[2:] in DIRECTIONS:
            continue
        out.append(line)
        if line.startswith("m="):
            out.append(f"a={new}")
    return _join(out)


def answer_direction(offer: str) -> str:
    """What an answer says to an offer of this direction."""
    return {"sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}.get(
        offer, "sendrecv"
    )


def restamp(sdp: str, session: int, version: int) -> str:
    """Replace the origin's session id and version (``o=`` keeps its user and address)."""
    out: list[str] = []
    for line in _lines(sdp):
        if line.startswith("o="):
            parts = line[2:].split()
            if len(parts) >= 6:
                parts[1], parts[2] = str(session), str(version)
                line = "o=" + " ".join(parts)
        out.append(line)
    return _join(out)
