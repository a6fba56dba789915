"""Measuring audio in tests (shared by every media test): which tone a recording holds.

A tone "arrived" when the share of the signal's power within ±25 Hz of it (an FFT over a
Hann-windowed stretch of 1–2 s) is above 0.8 and its level is above −30 dBFS; silence is
below −50 dBFS.
"""

from __future__ import annotations

import io
import math
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = [
    "SILENCE_DBFS",
    "TONE_DBFS",
    "TONE_SHARE",
    "Samples",
    "band_share",
    "level_dbfs",
    "read_wav",
    "stretch",
    "write_tone",
]

TONE_SHARE = 0.8
TONE_DBFS = -30.0
SILENCE_DBFS = -50.0
GREETING, MUSIC = 800.0, 600.0
"""The tones the waiting tests upload as a queue's greeting and music (told by frequency)."""

Samples = npt.NDArray[np.float64]


def read_wav(data: bytes) -> tuple[Samples, int]:
    """A mono 16-bit WAV as samples in [-1, 1], and its rate."""
    with wave.open(io.BytesIO(data)) as w:
        assert w.getsampwidth() == 2, "16-bit WAV expected"
        frames = w.readframes(w.getnframes())
        samples = np.frombuffer(frames, dtype="<i2").astype(np.float64) / 32768.0
        if w.getnchannels() > 1:
            samples = samples.reshape(-1, w.getnchannels()).mean(axis=1)
        return samples, w.getframerate()


def stretch(samples: Samples, rate: int, start: float, seconds: float) -> Samples:
    """``seconds`` of ``samples`` from ``start`` (negative: from the end)."""
    first = int(start * rate) if start >= 0 else len(samples) + int(start * rate)
    return samples[max(0, first) : max(0, first) + int(seconds * rate)]


def band_share(samples: Samples, rate: int, frequency: float, width: float = 25.0) -> float:
    """The share of the power within ±``width`` Hz of ``frequency`` (Hann window)."""
    if len(samples) == 0:
        return 0.0
    windowed = (samples - samples.mean()) * np.hanning(len(samples))
    power = np.abs(np.fft.rfft(windowed)) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1.0 / rate)
    total = float(power.sum())
    if total == 0:
        return 0.0
    return float(power[np.abs(freqs - frequency) <= width].sum()) / total


def loudest_hz(samples: Samples, rate: int) -> float:
    """The frequency with the most power (Hann window): what a failed assertion says was
    heard."""
    if len(samples) == 0:
        return 0.0
    power = np.abs(np.fft.rfft((samples - samples.mean()) * np.hanning(len(samples)))) ** 2
    return float(np.fft.rfftfreq(len(samples), 1.0 / rate)[int(np.argmax(power))])


def level_dbfs(samples: Samples) -> float:
    """RMS level in dB relative to a full-scale sine… as a square: 0 dBFS is full scale."""
    if len(samples) == 0:
        return -math.inf
    rms = float(np.sqrt(np.mean(samples**2)))
    return 20 * math.log10(rms) if rms > 0 else -math.inf


def write_tone(path: Path, frequency: float, seconds: float = 10.0, rate: int = 48000) -> Path:
    """A mono 16-bit WAV of a sine at half scale (Chromium's fake microphone loops it)."""
    t = np.arange(int(seconds * rate)) / rate
    pcm = (0.5 * 32767 * np.sin(2 * np.pi * frequency * t)).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def channels(data: bytes) -> tuple[Samples, Samples, int]:
    """The left and right channels of a stereo 16-bit WAV (a recording), in [-1, 1], and its
    rate."""
    with wave.open(io.BytesIO(data)) as w:
        assert w.getnchannels() == 2, "a stereo WAV"
        assert w.getsampwidth() == 2, "16-bit PCM"
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
        both = frames.reshape(-1, 2) / 32768.0
        return both[:, 0], both[:, 1], w.getframerate()


def assert_tone(samples: Samples, rate: int, frequency: float) -> None:
    """``samples`` hold the tone: its share above ``TONE_SHARE``, its level above ``TONE_DBFS``."""
    share, level = band_share(samples, rate, frequency), level_dbfs(samples)
    assert share > TONE_SHARE and level > TONE_DBFS, (frequency, share, level)


def assert_two_sides(
    left: Samples,
    right: Samples,
    rate: int,
    talking: list[tuple[float, float]],
    silent: list[tuple[float, float]],
    far: float,
    agent: float,
) -> None:
    """A recording's two channels: in each ``(start, seconds)`` stretch of ``talking`` the far
    party's tone left and the agent's right; both channels silent in each of ``silent``."""
    for at, seconds in talking:
        assert_tone(stretch(left, rate, at, seconds), rate, far)
        assert_tone(stretch(right, rate, at, seconds), rate, agent)
    for at, seconds in silent:
        assert level_dbfs(stretch(left, rate, at, seconds)) < SILENCE_DBFS, (at, seconds)
        assert level_dbfs(stretch(right, rate, at, seconds)) < SILENCE_DBFS, (at, seconds)


def assert_paused_recording(
    data: bytes, start: float, times: tuple[float, float, float, float], far: float, agent: float
) -> None:
    """A call recorded from ``began``, paused at ``paused``, recorded again from ``resumed``
    to ``ended`` (``times``, wall clock; ``start``: the recording's, from its listing): one
    WAV as long as that, both sides in the recorded stretches, both silent in the pause."""
    began, paused, resumed, ended = times
    left, right, rate = channels(data)
    assert ended - began - 1.0 < len(left) / rate < ended - began + 1.0
    first = (began - start + 0.5, paused - began - 1.0)
    pause = (paused - start + 0.5, resumed - paused - 1.0)
    second = (resumed - start + 0.5, ended - resumed - 1.0)
    assert_two_sides(left, right, rate, [first, second], [pause], far, agent)


def heard_kinds(samples: Samples, rate: int, step: float = 0.5) -> list[str]:
    """What each half second holds: ``greeting``, ``music``, ``speech`` or ``silence``
    (runs of one kind collapsed)."""
    kinds: list[str] = []
    n = int(step * rate)
    for start in range(0, len(samples) - n + 1, n):
        window = samples[start : start + n]
        level = level_dbfs(window)
        if level < SILENCE_DBFS:
            kind = "silence"
        elif band_share(window, rate, GREETING) > TONE_SHARE and level > TONE_DBFS:
            kind = "greeting"
        elif band_share(window, rate, MUSIC) > TONE_SHARE and level > TONE_DBFS:
            kind = "music"
        elif band_share(window, rate, MUSIC) < 0.3 and level > -40:
            kind = "speech"
        else:
            kind = "mixed"  # a window across a change
        if kind != "mixed" and (not kinds or kinds[-1] != kind):
            kinds.append(kind)
    return kinds


def heard_sounds(samples: Samples, rate: int) -> list[str]:
    """What was heard, in order, silences left out (a prompt may take a moment to make)."""
    kinds = [k for k in heard_kinds(samples, rate) if k != "silence"]
    return [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]
