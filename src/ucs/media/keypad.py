"""The tones of a phone's keys (DTMF, ITU-T Q.23): what the far party of an anchored SIP call
hears when the agent's desk phone presses a key (``Conductor.press``).

Janus's AudioBridge drops RFC 4733 ``telephone-event`` packets (docs/media.md), so a key the
agent's phone tells by SIP INFO is played into the call's room as its two tones instead, the
way digits cross the telephone network in-band; an IVR at the far end detects them as any.
"""

from __future__ import annotations

import math
import struct

from ucs.media.g711 import wav

__all__ = ["FREQUENCIES", "KEY_SECONDS", "key_wav"]

_ROWS = (697.0, 770.0, 852.0, 941.0)
_COLUMNS = (1209.0, 1336.0, 1477.0, 1633.0)
_LAYOUT = ("123A", "456B", "789C", "*0#D")

FREQUENCIES: dict[str, tuple[float, float]] = {
    key: (_ROWS[r], _COLUMNS[c]) for r, row in enumerate(_LAYOUT) for c, key in enumerate(row)
}
"""Each key's low (row) and high (column) tone, in Hz."""
KEY_SECONDS = 0.2
"""How long a key's tones last (Q.24 asks for 40 ms at least; phones send 100–250 ms)."""
_PAUSE = 0.1
"""Silence after the tones, so that the same key pressed twice is heard as two."""
RATE = 16000


def key_wav(key: str) -> bytes:
    """A WAV file of ``key``'s two tones (each at -9 dBFS, the pair below full scale) and
    the pause after them. ``KeyError`` for a key a phone does not have."""
    low, high = FREQUENCIES[key]
    n, pause = round(KEY_SECONDS * RATE), round(_PAUSE * RATE)
    amplitude = 0.35 * 32767
    samples = [
        round(
            amplitude * math.sin(2 * math.pi * low * i / RATE)
            + amplitude * math.sin(2 * math.pi * high * i / RATE)
        )
        for i in range(n)
    ]
    samples += [0] * pause
    return wav(struct.pack(f"<{len(samples)}h", *samples), RATE)
