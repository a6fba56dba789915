"""Recordings of calls (CONTRACT §10): one stereo WAV per call, the far party left and the
agent's side right, kept in the recordings folder and indexed in the database.

While a call is recorded the media engine writes what each party says into a folder of the
call's own (``.parts/<uniqueid>``): a Janus ``.mjr`` file per party and stretch (a pause ends
a stretch, ``startRecording()`` begins the next), beside ``call.json`` (who, which queue,
when). A SIP leg that rtpengine relays is recorded by rtpengine instead (``ucs.media.forwarding``:
a call forwarded leg to leg has no room to record it): a pcap file per leg and stretch in
``.parts/.rtpengine/pcaps`` (``<call-id>-<random>.pcap``), named in the call's folder by an
``rtpengine-<call-id>.json`` that says whose side it is, at which port it arrived and from
which address (the phone's, as its SDP names it). When the
call ends, ``finish`` turns them into the call's WAV off the event loop, with child processes:
``janus-pp-rec`` unpacks each ``.mjr`` (μ-law to WAV; Opus to Ogg, decoded by ``opusdec``),
``ucs.media.pcap`` takes a side's G.711 out of a pcap file, ``sox`` puts each stretch at its
time (its first packet's) on its channel, silence elsewhere (pauses, a party that joined late),
and merges the two channels; the file is renamed into place whole and then indexed.
Parts left by a server that died (kill -9, a power cut) are finished at the next start, so a
recorded call is not lost: at most what the engine had not written yet (its last few hundred
milliseconds, in its buffers) is. ``prune`` removes recordings older than the retention.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import json
import logging
import os
import re
import shutil
import struct
import sys
import tempfile
import time
import wave
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from ucs.media import pcap
from ucs.media.base import run_tool
from ucs.storage import recordings as index
from ucs.storage.schema import agents_cell

__all__ = ["RATE", "Recorder", "RecordingError", "safe_uniqueid", "tools_installed"]

log = logging.getLogger("ucs.media")

RATE = 8000
"""The recordings' sampling rate: the far party's (G.711) and the rooms' own."""
MIN_SECONDS = 0.02
"""The shortest recording (a channel of no stretch is this much silence)."""
PARTIES = ("far", "agent")
"""The channels, left to right."""
_UID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_PART = re.compile(r"^[0-9]{4}-(far|agent)-audio\.mjr$")
_RELAYED = re.compile(r"^rtpengine-(.+)\.json$")
ENGINE = ".rtpengine"
"""The folder in ``.parts`` where rtpengine records (``--recording-dir``): not a call's (a
call's uniqueid never begins with a dot)."""
TOOLS = ("janus-pp-rec", "opusdec", "sox")


class RecordingError(Exception):
    """A recording could not be made from its parts."""


def tools_installed() -> bool:
    return all(shutil.which(tool) for tool in TOOLS)


def safe_uniqueid(uniqueid: str) -> bool:
    """Whether ``uniqueid`` can name files (a call's uniqueid always can)."""
    return bool(_UID.match(uniqueid)) and ".." not in uniqueid


@dataclass(frozen=True)
class _Part:
    party: str
    path: Path
    codec: str
    start: float
    """When its first packet was written (seconds, Unix time)."""
    port: int | None = None
    """A pcap file's: the party's audio is what arrived at this port (``ucs.media.pcap``)."""
    phone: tuple[str, int] | None = None
    """A pcap file's: from this address, the phone's (when anything came from there)."""


def _header(path: Path) -> dict[str, Any] | None:
    """The JSON header of a ``.mjr`` file; None when it has none (no packet ever came)."""
    try:
        with path.open("rb") as f:
            head = f.read(10)
            if len(head) < 10 or head[:8] != b"MJR00002":
                return None
            (size,) = struct.unpack(">H", head[8:10])
            info = json.loads(f.read(size))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and info.get("t") == "a" else None


async def _run(*command: str) -> None:
    code, err = await run_tool(*command)
    if code != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise RecordingError(f"{command[0]} failed ({code}): {tail[0]}")


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return float(w.getnframes()) / float(w.getframerate())


@dataclass(frozen=True)
class _Relayed:
    party: str
    port: int
    phone: tuple[str, int] | None


def _relayed(folder: Path) -> dict[str, _Relayed]:
    """The legs rtpengine recorded for the call (``rtpengine-<call-id>.json``): each call-id's
    party, the port its audio arrived at and the phone's address."""
    legs = {}
    for path in sorted(folder.iterdir()):
        match = _RELAYED.match(path.name)
        if match is None:
            continue
        try:
            about = json.loads(path.read_text(encoding="utf-8"))
            party, port = str(about["party"]), int(about["port"])
            source = about.get("source")
            phone = (str(source[0]), int(source[1])) if source else None
        except (OSError, ValueError, KeyError, TypeError, IndexError) as err:
            log.warning("recording part %s unreadable: %s", path, err)
            continue
        if party in PARTIES:
            legs[match.group(1)] = _Relayed(party, port, phone)
    return legs


def _engine_files(engine: Path, callid: str) -> list[Path]:
    """rtpengine's files of a leg: its pcap files (one a stretch) and their metadata (in
    ``tmp`` while the stretch is recorded, in ``metadata`` once it is closed)."""
    name = glob.escape(callid)
    meta = f"rtpengine-meta-{name}-*"
    found = engine.glob(f"pcaps/{name}-*.pcap")
    return sorted([*found, *engine.glob(f"metadata/{meta}"), *engine.glob(f"tmp/{meta}")])


def _parts(folder: Path, engine: Path) -> list[_Part]:
    """The recorded stretches in a call's parts folder, and rtpengine's of its legs (files
    with no packet left out)."""
    parts = []
    for path in sorted(folder.iterdir()):
        match = _PART.match(path.name)
        info = _header(path) if match else None
        if match and info is not None:
            start = float(info.get("u") or info.get("s") or 0) / 1e6
            parts.append(_Part(match.group(1), path, str(info.get("c")), start))
    for callid, leg in _relayed(folder).items():
        for path in _engine_files(engine, callid):
            first = pcap.first_time(path) if path.suffix == ".pcap" else None
            if first is not None:
                parts.append(_Part(leg.party, path, "pcap", first, leg.port, leg.phone))
    return parts


def _last_change(folder: Path) -> float:
    """When anything in a call's parts folder last changed (its end, as near as is known)."""
    return max((p.stat().st_mtime for p in folder.iterdir()), default=time.time())


def _silence(target: Path, seconds: float) -> None:
    """A two-channel WAV of ``seconds`` of silence, written whole and then renamed into place."""
    frames = round(seconds * RATE)
    made = target.with_suffix(".tmp")
    with wave.open(str(made), "wb") as w:
        w.setnchannels(len(PARTIES))
        w.setsampwidth(2)
        w.setframerate(RATE)
        second = bytes(4 * RATE)
        for _ in range(frames // RATE):
            w.writeframes(second)
        w.writeframes(bytes(4 * (frames % RATE)))
    os.replace(made, target)


class Recorder:
    """The recordings folder, its parts and its index (``engine``, the store's database)."""

    def __init__(self, folder: Path, engine: Callable[[], Engine | None]) -> None:
        self.folder = folder
        self.engine = engine
        self.live: dict[str, Path] = {}
        """Calls being recorded (or paused) now, and their parts folder."""
        self.finishing: dict[str, asyncio.Task[None]] = {}
        self._agents: dict[str, frozenset[tuple[int, str]]] = {}
        """The agents ``call.json`` names, of each call being recorded (``note``)."""
        self._ended: dict[str, float] = {}
        """When each call being finished stopped being recorded (Unix time)."""
        self._made: dict[str, asyncio.Event] = {}
        """Calls recorded whose WAV is not made yet: set once it is (or could not be)."""

    @property
    def parts(self) -> Path:
        return self.folder / ".parts"

    @property
    def relay_folder(self) -> Path:
        """Where rtpengine records the legs it relays (``--recording-dir``)."""
        return self.parts / ENGINE

    def file(self, uniqueid: str) -> Path:
        return self.folder / f"{uniqueid}.wav"

    def begin(self, uniqueid: str, agent: tuple[int, str], queue: int | None) -> Path:
        """The parts folder of a call recorded from now on (made, with ``call.json``, the
        first time)."""
        if not safe_uniqueid(uniqueid):
            raise RecordingError(f"{uniqueid!r} cannot name a recording")
        folder = self.live.get(uniqueid)
        if folder is None:
            folder = self.parts / uniqueid
            folder.mkdir(parents=True, exist_ok=True)
            meta = folder / "call.json"
            if not meta.exists():
                about = {
                    "uniqueid": uniqueid,
                    "agent_id": agent[0],
                    "agent": agent[1],
                    "agents": [list(agent)],
                    "queue_id": queue,
                    "start": time.time(),
                }
                meta.write_text(json.dumps(about), encoding="utf-8")
            self.live[uniqueid] = folder
            self._made.setdefault(uniqueid, asyncio.Event())
        return folder

    def note(self, uniqueid: str, agents: Iterable[tuple[int, str]]) -> None:
        """Every agent who has been on the recorded call (a transfer adds one), kept in its
        ``call.json`` for the index; written only when one is new."""
        folder = self.live.get(uniqueid)
        if folder is None or self._agents.get(uniqueid, frozenset()).issuperset(agents):
            return  # nobody new: call.json is not read again
        meta = folder / "call.json"
        try:
            about = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            log.warning("recording of %s: call.json unreadable (%s)", uniqueid, err)
            return
        known = [
            tuple(a) for a in about.get("agents") or [[about.get("agent_id"), about.get("agent")]]
        ]
        more = [list(a) for a in agents if tuple(a) not in known]
        if more:
            about["agents"] = [list(a) for a in known] + more
            tmp = meta.with_suffix(".tmp")
            tmp.write_text(json.dumps(about), encoding="utf-8")
            os.replace(tmp, meta)
        self._agents[uniqueid] = frozenset(tuple(a) for a in about.get("agents") or known)

    async def made(self, uniqueid: str) -> None:
        """Wait until the call's WAV is made, if it is being made (callers bound the wait)."""
        event = self._made.get(uniqueid)
        if event is not None:
            await event.wait()

    def recorded(self, uniqueid: str) -> bool:
        return uniqueid in self.live

    def finish(self, uniqueid: str) -> asyncio.Task[None]:
        """Make the call's WAV from its parts, in the background (once)."""
        if self.live.pop(uniqueid, None) is not None:
            self._ended[uniqueid] = time.time()
        self._agents.pop(uniqueid, None)
        task = self.finishing.get(uniqueid)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._finish(uniqueid))
            self.finishing[uniqueid] = task
            self._made.setdefault(uniqueid, asyncio.Event())
            task.add_done_callback(lambda _: self._done(uniqueid))
        return task

    def _done(self, uniqueid: str) -> None:
        self.finishing.pop(uniqueid, None)
        self._ended.pop(uniqueid, None)
        event = self._made.pop(uniqueid, None)
        if event is not None:
            event.set()

    def recover(self) -> list[str]:
        """Finish the recordings a server that stopped without finishing them left."""
        try:
            left = sorted(p.name for p in self.parts.iterdir() if p.is_dir())
        except OSError:
            return []
        left = [uid for uid in left if safe_uniqueid(uid) and uid not in self.live]
        for uid in left:
            self.finish(uid)
        return left

    async def _finish(self, uniqueid: str) -> None:
        folder = self.parts / uniqueid
        try:
            about = json.loads((folder / "call.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            log.warning("recording of %s has no call.json (%s): its parts are kept", uniqueid, err)
            return
        try:
            row = await self._make(uniqueid, folder, about)
        except (RecordingError, OSError, wave.Error) as err:
            log.warning("recording of %s could not be made: %s (parts kept)", uniqueid, err)
            return
        engine = self.engine()
        if engine is None:
            return
        await asyncio.to_thread(index.save, engine, row)
        await asyncio.to_thread(self._remove, folder)

    def _remove(self, folder: Path) -> None:
        """A call's parts, its WAV made and indexed: its folder and rtpengine's files."""
        for callid in _relayed(folder):
            for path in _engine_files(self.relay_folder, callid):
                path.unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)

    async def _make(self, uniqueid: str, folder: Path, about: dict[str, Any]) -> dict[str, Any]:
        parts = await asyncio.to_thread(_parts, folder, self.relay_folder)
        target = self.file(uniqueid)
        ended = self._ended.pop(uniqueid, None)
        if not parts:  # recorded, but no packet came (a call hung up at once): its silence
            end = ended if ended is not None else await asyncio.to_thread(_last_change, folder)
            t0 = float(about.get("start") or end)
            log.info("recording of %s: nothing was heard while it recorded", uniqueid)
            await asyncio.to_thread(_silence, target, max(end - t0, MIN_SECONDS))
        else:
            t0 = min(p.start for p in parts)
            await self._merge(target, parts, t0)
        agents = about.get("agents") or [[about.get("agent_id"), about.get("agent")]]
        return {
            "uniqueid": uniqueid,
            "agent_id": about.get("agent_id"),
            "agent": about.get("agent"),
            "agents": agents_cell(
                (int(a), str(u)) for a, u in agents if isinstance(a, int) and u is not None
            ),
            "queue_id": about.get("queue_id"),
            "start": t0,
            "seconds": round(_seconds(target), 3),
            "bytes": target.stat().st_size,
            "path": target.name,
        }

    async def _merge(self, target: Path, parts: list[_Part], t0: float) -> None:
        """The call's WAV from its recorded stretches: the far party left, the agent right."""
        with tempfile.TemporaryDirectory(prefix="ucs-rec-", dir=self.folder) as tmp:
            work = Path(tmp)
            channels = [
                await self._channel(work, party, [p for p in parts if p.party == party], t0)
                for party in PARTIES
            ]
            made = work / "call.wav"
            await _run("sox", "-M", *map(str, channels), "-b", "16", "-e", "signed", str(made))
            os.replace(made, target)

    async def _channel(self, work: Path, party: str, parts: list[_Part], t0: float) -> Path:
        """One channel: each stretch at its time, silence around them."""
        out = work / f"{party}.wav"
        if not parts:
            await _run(
                "sox",
                "-n",
                "-r",
                str(RATE),
                "-c",
                "1",
                "-b",
                "16",
                str(out),
                "trim",
                "0",
                str(MIN_SECONDS),
            )
            return out
        placed = []
        for n, part in enumerate(parts):
            decoded = work / f"{party}-{n}.wav"
            start = part.start
            if part.codec == "pcap":
                found = await self._side(work / f"{party}-{n}.g711", part, decoded)
                if found is None:
                    continue  # nothing of this side arrived while it was recorded
                start += found
            elif part.codec == "opus":
                ogg = work / f"{party}-{n}.opus"
                await _run("janus-pp-rec", str(part.path), str(ogg))
                await _run("opusdec", "--quiet", "--rate", str(RATE), str(ogg), str(decoded))
            else:
                await _run("janus-pp-rec", str(part.path), str(decoded))
            at = work / f"{party}-{n}-at.wav"
            offset = f"{max(0.0, start - t0):.3f}"
            await _run(
                "sox", str(decoded), "-r", str(RATE), "-c", "1", "-b", "16", str(at), "pad", offset
            )
            placed.append(at)
        if not placed:
            return await self._channel(work, party, [], t0)
        if len(placed) == 1:
            return placed[0]
        mix = [arg for p in placed for arg in ("-v", "1", str(p))]
        await _run("sox", "-m", *mix, str(out))
        return out

    @staticmethod
    async def _side(raw: Path, part: _Part, decoded: Path) -> float | None:
        """A pcap part's side as a WAV (``decoded``): how long after the file's first packet
        it begins; None when nothing of it arrived."""
        command = [sys.executable, "-I", pcap.__file__, str(part.path), str(part.port), str(raw)]
        if part.phone is not None:
            host, port = part.phone
            command.append(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
        await _run(*command)
        about = json.loads(raw.with_name(raw.name + ".json").read_text(encoding="utf-8"))
        if not about:
            return None
        kind = str(about["codec"])
        await _run("sox", "-t", kind, "-r", str(RATE), "-c", "1", str(raw), str(decoded))
        return float(about["offset"])

    # --- the index --------------------------------------------------------------------------

    async def delete(self, uniqueid: str) -> bool:
        engine = self.engine()
        if engine is None or not safe_uniqueid(uniqueid):
            return False
        removed = await asyncio.to_thread(index.remove, engine, uniqueid)
        with contextlib.suppress(FileNotFoundError):
            self.file(uniqueid).unlink()
            removed = True
        return removed

    async def prune(self, days: float, now: float) -> int:
        """Remove the recordings older than ``days`` (0: keep all); how many went."""
        engine = self.engine()
        if days <= 0 or engine is None:
            return 0
        old = await asyncio.to_thread(index.older_than, engine, now - days * 86400)
        for row in old:
            await self.delete(str(row["uniqueid"]))
        if old:
            log.info("removed %d recordings older than %g days", len(old), days)
        return len(old)
