"""Keys pressed by a caller, as SIP INFO carries them (CONTRACT §12: press 1 for a callback).

Two bodies are common: ``application/dtmf-relay`` (``Signal=1`` and ``Duration=160`` lines,
Cisco's, which most phones and trunks send) and ``application/dtmf`` (the key alone). Some
phones write ``*`` and ``#`` as the RFC 4733 event numbers 10 and 11 (and A–D as 12–15).
"""

from __future__ import annotations

from ucs.core.events import KEYS

__all__ = ["KEYS", "digits_of"]


def _key(value: str) -> str | None:
    value = value.strip().upper()
    if len(value) == 1 and value in KEYS:
        return value
    if value.isdigit() and int(value) < len(KEYS):
        return KEYS[int(value)]
    return None


def digits_of(content_type: str, body: str) -> str | None:
    """The key an INFO body says was pressed; None when it says none (another kind of body,
    or one that does not parse)."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/dtmf-relay":
        for line in body.replace("\r\n", "\n").split("\n"):
            name, sep, value = line.partition("=")
            if sep and name.strip().lower() == "signal":
                return _key(value)
        return None
    if kind == "application/dtmf":
        return _key(body)
    return None
