"""The little SDP handling ucs needs: the SIP switch's (the direction of the media, hold, an
origin line of our own per leg so that each peer sees its session version increase) and the
media plane's (where a peer takes its audio, ``audio_of``; our description of audio anchored
in the engine, ``engine_sdp``, also what rtpengine is told of each side of a leg)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

__all__ = [
    "CODECS",
    "DIRECTIONS",
    "Audio",
    "answer_direction",
    "audio_of",
    "direction",
    "engine_sdp",
    "holds",
    "restamp",
    "with_direction",
]

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


def holds(sdp: str) -> bool:
    """Whether an offer puts the call on hold: its first stream is ``sendonly`` or
    ``inactive``, or (the old way, RFC 2543) its address is 0.0.0.0."""
    if direction(sdp) in ("sendonly", "inactive"):
        return True
    return any(
        line.startswith("c=") and line[2:].split()[2:3] == ["0.0.0.0"] for line in _lines(sdp)
    )


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


CODECS = {0: "pcmu", 8: "pcma"}
"""The static RTP payload types a call's audio may be anchored with (G.711), and the media
engine's names for them."""


@dataclass(frozen=True, slots=True)
class Audio:
    """Where a peer takes its audio and in which codec: what the media engine is told."""

    ip: str
    port: int
    payload: int
    """0 (PCMU) or 8 (PCMA): the first of them the peer offered."""
    dtmf: int | None = None
    """The payload type of its RFC 4733 ``telephone-event/8000``, when it offers them."""

    @property
    def codec(self) -> str:
        return CODECS[self.payload]


def audio_of(sdp: str) -> Audio | None:
    """The first audio stream of a description: its address (the stream's ``c=``, else the
    session's) and its first G.711 format. None when it has none, no IPv4 address, port 0,
    or no G.711."""
    session_ip: str | None = None
    media_ip: str | None = None
    port: int | None = None
    formats: list[str] = []
    events: set[str] = set()
    seen = False
    for line in _lines(sdp):
        if line.startswith("m="):
            if seen:
                break
            parts = line[2:].split()
            if len(parts) >= 4 and parts[0] == "audio" and parts[1].isdigit():
                seen, port, formats = True, int(parts[1]), parts[3:]
        elif seen and line.lower().startswith("a=rtpmap:"):
            number, _, name = line[9:].partition(" ")
            if name.strip().lower() == "telephone-event/8000":
                events.add(number)
        elif line.startswith("c="):
            parts = line[2:].split()
            if len(parts) >= 3 and parts[1] == "IP4":
                if seen:
                    media_ip = parts[2].split("/")[0]
                elif port is None:
                    session_ip = parts[2].split("/")[0]
    ip = media_ip or session_ip
    payload = next((int(f) for f in formats if f.isdigit() and int(f) in CODECS), None)
    if not seen or not port or ip is None or payload is None:
        return None
    try:
        if ipaddress.IPv4Address(ip).is_unspecified:  # 0.0.0.0: an old-style hold
            return None
    except ValueError:
        return None
    dtmf = next((int(f) for f in formats if f in events and 96 <= int(f) <= 127), None)
    return Audio(ip, port, payload, dtmf)


def engine_sdp(
    address: tuple[str, int], payload: int, how: str = "sendrecv", dtmf: int | None = None
) -> str:
    """Our description of a leg's audio anchored in the media engine: the engine's address
    for that leg, the one G.711 format chosen, and RFC 4733 telephone-events (payload type
    ``dtmf``) when the leg's keys are read there (``ucs.media.relay``)."""
    ip, port = address
    name = "PCMU" if payload == 0 else "PCMA"
    formats = f"{payload} {dtmf}" if dtmf is not None else str(payload)
    events = [f"a=rtpmap:{dtmf} telephone-event/8000", f"a=fmtp:{dtmf} 0-16"]
    return _join(
        [
            "v=0",
            f"o=ucs 1 1 IN IP4 {ip}",
            "s=ucs",
            f"c=IN IP4 {ip}",
            "t=0 0",
            f"m=audio {port} RTP/AVP {formats}",
            f"a=rtpmap:{payload} {name}/8000",
            *(events if dtmf is not None else []),
            "a=ptime:20",
            f"a={how}",
        ]
    )
