"""Datagrams that do not parse as SIP: which to ignore without a word, and the ``400 Bad
Request`` for those that still have a request line and a Via to answer to (RFC 3261 §21.4.1),
built from their text alone. The answer copies the request's Via, From, To, Call-ID and CSeq
lines as they came (so the sender can match it) and nothing else: it is never larger than the
request plus a few dozen bytes, so it amplifies nothing.
"""

from __future__ import annotations

import re
import secrets

__all__ = ["bad_request", "is_keepalive", "reason"]

_REQUEST_LINE = re.compile(r"([A-Za-z][A-Za-z0-9.!%*_+`'~-]*) \S")
_COPIED = {
    "via": "Via",
    "v": "Via",
    "from": "From",
    "f": "From",
    "to": "To",
    "t": "To",
    "call-id": "Call-ID",
    "i": "Call-ID",
    "cseq": "CSeq",
}
_STUN_COOKIE = b"\x21\x12\xa4\x42"


def is_keepalive(data: bytes) -> bool:
    """Blank lines (RFC 5626 keep-alives) and STUN binding requests some phones send to the
    SIP port to keep their NAT open: not SIP, not malformed either."""
    return not data.strip() or (len(data) >= 20 and data[4:8] == _STUN_COOKIE)


def reason(exc: BaseException) -> str:
    """What was wrong, in one short line for the log."""
    text = " ".join(str(exc).split())[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def bad_request(data: bytes) -> bytes | None:
    """The ``400 Bad Request`` answering ``data``, or None when it cannot be answered: not a
    request (a response, or no method), an ACK (never answered), or no Via."""
    text = data.decode("utf-8", errors="surrogateescape")  # bytes copied back as they came
    head = text.replace("\r\n", "\n").split("\n\n", 1)[0].split("\n")
    m = _REQUEST_LINE.match(head[0])
    if m is None or head[0].startswith("SIP/") or m.group(1).upper() == "ACK":
        return None
    copied: list[tuple[str, str]] = []
    for line in head[1:]:
        name, sep, value = line.partition(":")
        canonical = _COPIED.get(name.strip().lower())
        if sep and canonical is not None and value.strip():
            copied.append((canonical, value.strip()))
    if not any(name == "Via" for name, _ in copied):
        return None
    lines = ["SIP/2.0 400 Bad Request"]
    for name, value in copied:
        if name == "To" and ";tag=" not in value.lower():
            value += f";tag={secrets.token_hex(4)}"
        lines.append(f"{name}: {value}")
    lines += ["Server: ucs", "Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode("utf-8", errors="surrogateescape")
