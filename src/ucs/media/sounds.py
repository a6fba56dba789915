"""The sounds callers hear (CONTRACT §10): the default set and the ones administrators upload.

Sounds are Ogg/Opus files in one folder (the only format Janus's AudioBridge plays), each with a
small JSON sidecar (its length in seconds). A sound may have a version per language,
``welcome.cs.opus`` beside ``welcome.opus``; ``path(name, language)`` prefers the language's.

The default set is made at the first start with media, from Debian's packages: ``music`` from
``asterisk-moh-opsound-wav`` (Macroform, "The Simplicity", CC BY-SA 3.0, see docs/media.md),
``welcome`` spoken by espeak-ng in English and Czech, encoded by opusenc. Announcements of a
caller's place are spoken the same way when first needed and kept.

An uploaded sound (``put``) is a WAV file (PCM, 8–48 kHz, mono or stereo, at most
``MAX_SECONDS``); anything else is refused with ``SoundError`` and nothing is stored.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import shutil
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

from ucs.media.base import run_tool
from ucs.media.keypad import KEY_SECONDS, key_wav

__all__ = ["DEFAULTS", "MAX_SECONDS", "NAME", "SoundError", "Sounds", "tools_installed"]

NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
"""A sound's name: lower-case letters, digits, ``-`` and ``_``, at most 32 characters."""
LANGUAGES = ("en", "cs")
MAX_SECONDS = 600.0
MUSIC = Path("/usr/share/asterisk/moh/macroform-the_simplicity.wav")
MUSIC_SECONDS = 90.0
"""How much of it the default ``music`` holds (it loops)."""
PROMPTS = {
    "welcome": {
        "en": "Welcome. Please hold the line, one of our agents will be with you shortly.",
        "cs": "Dobrý den. Vydržte prosím, za chvíli vás spojíme s operátorem.",
    },
}
DEFAULTS = ("music", *PROMPTS)
"""The sounds that ship with the server."""


class SoundError(ValueError):
    """A sound that cannot be stored (bad name, not a WAV file, too long); nothing changed."""


def tools_installed() -> bool:
    """opusenc (opus-tools) encodes every sound; espeak-ng speaks the prompts."""
    return shutil.which("opusenc") is not None and shutil.which("espeak-ng") is not None


@dataclass(frozen=True)
class Sound:
    name: str
    languages: tuple[str, ...]
    """Languages with a version of their own ("" for the version for every language)."""
    seconds: float
    bytes: int


def _check_wav(data: bytes) -> float:
    """The length in seconds of a WAV file we accept; ``SoundError`` otherwise."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            rate, channels, width, frames = (
                w.getframerate(),
                w.getnchannels(),
                w.getsampwidth(),
                w.getnframes(),
            )
            w.readframes(frames)
    except (wave.Error, EOFError, ValueError) as err:
        raise SoundError(f"not a PCM WAV file: {err}") from None
    if not 8000 <= rate <= 48000:
        raise SoundError(f"sample rate must be 8000 to 48000 Hz, not {rate}")
    if channels not in (1, 2):
        raise SoundError(f"a sound must be mono or stereo, not {channels} channels")
    if width not in (1, 2):
        raise SoundError(f"samples must be 8 or 16 bits, not {width * 8}")
    seconds: float = frames / rate
    if not 0 < seconds <= MAX_SECONDS:
        raise SoundError(f"a sound must last up to {MAX_SECONDS:g} s, this one {seconds:.1f} s")
    return seconds


def _read_if_missing(source: Path, target: Path, seconds: float) -> bytes | None:
    """The first ``seconds`` of the WAV ``source`` when ``target`` is not made yet (and
    ``source`` is there): hold music loops, and encoding all of it took seconds of CPU."""
    if target.exists() or not source.is_file():
        return None
    out = io.BytesIO()
    with wave.open(str(source)) as r, wave.open(out, "wb") as w:
        w.setparams(r.getparams())
        w.writeframes(r.readframes(int(seconds * r.getframerate())))
    return out.getvalue()


async def _run(*command: str) -> None:
    code, err = await run_tool(*command)
    if code != 0:
        raise SoundError(f"{command[0]} failed: {err.decode(errors='replace').strip()[:200]}")


class Sounds:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = asyncio.Lock()
        self._keys = asyncio.Lock()
        """A key's tones are made apart: never behind the defaults' making (tens of seconds of
        espeak-ng and opusenc at a first start), while a caller waits for them."""

    def _file(self, name: str, language: str = "") -> Path:
        return self.folder / (f"{name}.{language}.opus" if language else f"{name}.opus")

    def path(self, name: str, language: str = "") -> Path | None:
        """The file to play for ``name`` in ``language`` (its own version first)."""
        for candidate in (self._file(name, language), self._file(name)):
            if candidate.is_file():
                return candidate
        return None

    def seconds(self, path: Path) -> float:
        try:
            return float(json.loads(path.with_suffix(".json").read_text())["seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0.0

    def list(self) -> list[Sound]:
        found: dict[str, list[Path]] = {}
        if self.folder.is_dir():
            for p in sorted(self.folder.glob("*.opus")):
                found.setdefault(p.name.split(".", 1)[0], []).append(p)
        return [
            Sound(
                name,
                tuple(p.name.split(".")[1] if p.name.count(".") == 2 else "" for p in files),
                max(self.seconds(p) for p in files),
                sum(p.stat().st_size for p in files),
            )
            for name, files in sorted(found.items())
        ]

    async def put(self, name: str, data: bytes, language: str = "") -> Sound:
        """Store a WAV file as the sound ``name`` (replacing it); ``SoundError`` if refused."""
        if not NAME.match(name):
            raise SoundError(f"a sound's name is a-z, 0-9, - and _ (at most 32), not {name!r}")
        seconds = _check_wav(data)
        async with self._lock:
            await self._encode(data, self._file(name, language), seconds)
        return next(s for s in self.list() if s.name == name)

    async def ensure_defaults(self) -> None:
        """Make the default sounds that are missing (the first start with media)."""
        async with self._lock:
            music = await asyncio.to_thread(
                _read_if_missing, MUSIC, self._file("music"), MUSIC_SECONDS
            )
            if music is not None:
                await self._encode(music, self._file("music"), _check_wav(music))
            for name, texts in PROMPTS.items():
                for language, text in texts.items():
                    target = self._file(name, "" if language == "en" else language)
                    if not target.exists():
                        await self._speak(text, language, target)

    async def spoken(self, key: str, text: str, language: str) -> Path:
        """``text`` spoken in ``language``, made once and kept as ``key`` (``place-3``)."""
        target = self._file(key, language)
        if not target.exists():
            async with self._lock:
                if not target.exists():
                    await self._speak(text, language, target)
        return target

    async def key(self, key: str) -> Path:
        """The tones of a phone's key (``keypad.py``), made once and kept in ``keys/`` (not a
        sound of the list). ``KeyError`` for a key a phone does not have."""
        data = key_wav(key)
        name = {"*": "star", "#": "hash"}.get(key, key)
        target = self.folder / "keys" / f"key-{name}.opus"
        if not target.exists():
            async with self._keys:
                if not target.exists():
                    await self._encode(data, target, KEY_SECONDS)
        return target

    async def mulaw(self, text: str, language: str) -> bytes:
        """``text`` spoken, as raw 8 kHz G.711 μ-law (the simulator's voice; sox resamples)."""
        with tempfile.TemporaryDirectory() as tmp:
            wav, raw = Path(tmp) / "speech.wav", Path(tmp) / "speech.ul"
            voice = language if language in LANGUAGES else "en"
            await _run("espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), text)
            await _run(
                "sox", str(wav), "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw", str(raw)
            )
            return await asyncio.to_thread(raw.read_bytes)

    async def _speak(self, text: str, language: str, target: Path) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "speech.wav"
            voice = language if language in LANGUAGES else "en"
            await _run("espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), text)
            data = wav.read_bytes()
            await self._encode(data, target, _check_wav(data))

    async def _encode(self, data: bytes, target: Path, seconds: float) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            wav, opus = Path(tmp) / "in.wav", Path(tmp) / "out.opus"
            wav.write_bytes(data)
            await _run("opusenc", "--quiet", "--bitrate", "48", str(wav), str(opus))
            side = Path(tmp) / "out.json"
            side.write_text(json.dumps({"seconds": round(seconds, 3)}))
            os.replace(side, target.with_suffix(".json"))
            os.replace(opus, target)
