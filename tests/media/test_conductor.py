"""The conductor's requests to the engine are never cut in the middle (``ucs.media.conductor``).

A waiting caller's announcements are a task each, cancelled by the next announcement or by an
agent's answer, and a request to Janus takes several steps (a room made, then noted; a
participant moved, then noted): one cut between them leaves the engine with a room ucs knows
nothing of, whose threads cost it CPU until the engine restarts. The engine here is a stand-in
that records what it was asked and is slow to answer."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from ucs.media.base import MediaError
from ucs.media.conductor import Conductor
from ucs.media.recorder import Recorder
from ucs.media.sounds import Sounds

pytestmark = pytest.mark.anyio


class _SlowEngine:
    """Answers each request once ``go`` is set; notes what it began and finished."""

    def __init__(self, fail: bool = False) -> None:
        self.go, self.begun, self.ended = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self.done: list[str] = []
        self.fail = fail

    async def play(self, uniqueid: str, path: str, *, loop: bool, key: str) -> None:
        self.begun.set()
        try:
            await self.go.wait()
            if self.fail:
                raise MediaError("the engine refused")
            self.done.append(key)
        finally:
            self.ended.set()

    async def stop_playing(self, uniqueid: str, key: str) -> None:
        self.done.append(f"stop {key}")


def _conductor(tmp_path: Path, engine: _SlowEngine) -> Conductor:
    conductor = Conductor(
        submit=lambda event: None,
        caller_hangup=lambda uid: None,  # type: ignore[arg-type,return-value]
        supervisor_of=None,
        rtp_ip="127.0.0.1",
        sounds=Sounds(tmp_path / "sounds"),
        recorder=Recorder(tmp_path / "recordings", lambda: None),
    )
    conductor.media = engine  # type: ignore[assignment]
    return conductor


async def test_a_request_under_way_is_finished_when_its_caller_s_announcements_are_cut(
    tmp_path: Path,
) -> None:
    engine = _SlowEngine()
    conductor = _conductor(tmp_path, engine)
    sequence = asyncio.create_task(conductor._sequence("1700000000.1", [], "music.wav"))
    await engine.begun.wait()
    sequence.cancel()  # the next announcement, or an agent, while Janus works on the music
    with pytest.raises(asyncio.CancelledError):
        await sequence
    assert engine.done == []
    engine.go.set()
    await asyncio.wait_for(engine.ended.wait(), 5)
    assert engine.done == ["music"]  # carried out whole, not cut between its steps
    await conductor.stop()


async def test_a_request_that_fails_after_its_sequence_was_cut_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = _SlowEngine(fail=True)
    conductor = _conductor(tmp_path, engine)
    sequence = asyncio.create_task(conductor._sequence("1700000000.2", [], "music.wav"))
    await engine.begun.wait()
    sequence.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sequence
    with caplog.at_level(logging.WARNING, logger="ucs.media"):
        engine.go.set()
        await asyncio.wait_for(engine.ended.wait(), 5)
        await asyncio.sleep(0)  # (its done callbacks)
    assert "the engine refused" in caplog.text
    await conductor.stop()
