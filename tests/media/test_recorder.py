"""The recorder's edges (``ucs.media.recorder``), on its folder and a real index: a call that was
recorded but whose media never sent a packet (hung up at once) still has its recording, the
silence of the time it was recorded, as CONTRACT §10's ``recorded`` promises; so has one whose
parts a killed server left."""

from __future__ import annotations

import json
import os
import time
import wave
from pathlib import Path

import pytest

from ucs.media.recorder import RATE, Recorder
from ucs.storage import recordings
from ucs.storage.store import Store

pytestmark = pytest.mark.anyio


def _recorder(tmp_path: Path) -> tuple[Recorder, Store]:
    store = Store(f"sqlite:///{tmp_path / 'ucs.db'}")
    store.migrate()
    return Recorder(tmp_path / "recordings", lambda: store.engine), store


def _wav(path: Path) -> tuple[int, float, bytes]:
    with wave.open(str(path)) as w:
        frames = w.readframes(w.getnframes())
        return w.getnchannels(), w.getnframes() / w.getframerate(), frames


async def test_a_recorded_call_that_sent_no_packet_has_its_silence(tmp_path: Path) -> None:
    recorder, store = _recorder(tmp_path)
    folder = recorder.begin("1700000000.1", (1, "agent1"), 1)
    # The engine made the parties' files, but no packet came: no header in either.
    (folder / "0001-far-audio.mjr").write_bytes(b"")
    (folder / "0001-agent-audio.mjr").write_bytes(b"")
    about = json.loads((folder / "call.json").read_text())
    about["start"] = time.time() - 1.5  # recorded for 1.5 s before the hang-up
    (folder / "call.json").write_text(json.dumps(about))
    await recorder.finish("1700000000.1")
    await recorder.made("1700000000.1")

    channels, seconds, frames = _wav(recorder.file("1700000000.1"))
    assert channels == 2 and 1.4 < seconds < 3.0 and not any(frames)
    row = recordings.find(store.engine, "1700000000.1")
    assert row is not None and row["agent"] == "agent1" and row["queue_id"] == 1
    assert abs(row["seconds"] - seconds) < 0.01 and not folder.exists()


async def test_parts_without_a_packet_left_by_a_killed_server_end_when_they_last_changed(
    tmp_path: Path,
) -> None:
    recorder, store = _recorder(tmp_path)
    folder = recorder.parts / "1700000000.2"
    folder.mkdir(parents=True)
    start = time.time() - 600
    about = {"uniqueid": "1700000000.2", "agent_id": 2, "agent": "agent2"}
    (folder / "call.json").write_text(json.dumps({**about, "queue_id": 2, "start": start}))
    os.utime(folder / "call.json", (start + 4, start + 4))  # the last the server did: 4 s in
    assert recorder.recover() == ["1700000000.2"]  # as the next start does
    await recorder.made("1700000000.2")
    channels, seconds, _ = _wav(recorder.file("1700000000.2"))
    assert channels == 2 and abs(seconds - 4.0) < 2 / RATE
    row = recordings.find(store.engine, "1700000000.2")
    assert row is not None and row["start"] == pytest.approx(start)
