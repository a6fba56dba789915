"""Simulated callers whose audio is a plain RTP peer of the client's own (``POST /api/sim/calls``
with ``"rtp"``, what the media benchmark's load generator uses): the engine answers where it
takes the caller's RTP and sends the caller what the queue plays; bad addresses are refused
with nothing started."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.media.audio import TONE_DBFS, TONE_SHARE, band_share, level_dbfs, write_tone
from tests.media.conftest import Netns
from tests.media.helpers import ADMIN
from tests.server.conftest import Running
from ucs.media.g711 import decode, tone

pytestmark = pytest.mark.anyio

MUSIC_TONE = 600.0


async def test_a_caller_of_its_own_rtp_hears_the_queues_music(
    tmp_path: Path, media_server: Running, netns: Netns
) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((netns.host_ip, 0))
    sock.setblocking(False)
    port = sock.getsockname()[1]
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN, timeout=30) as http:
        music = write_tone(tmp_path / "music.wav", MUSIC_TONE, seconds=5.0, rate=8000)
        assert (await http.put("/api/sounds/music", content=music.read_bytes())).status_code == 200
        r = await http.patch("/api/queues/1", json={"greeting": None})
        assert r.status_code == 200, r.text
        body = {"queue": 1, "from": "+420777123456", "rtp": f"{netns.host_ip}:{port}"}
        r = await http.post("/api/sim/calls", json=body)
        assert r.status_code == 201, r.text
        ip, _, engine_port = r.json()["rtp"].rpartition(":")
        assert ip == netns.engine_ip
        engine = (ip, int(engine_port))
        clip, heard, seq = tone(440.0), bytearray(), 0
        deadline = time.monotonic() + 4.0
        while time.monotonic() < deadline:  # speak 20 ms at a time, keep what comes back
            payload = clip[(seq * 160) % len(clip) :][:160]
            sock.sendto(struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 1234) + payload, engine)
            seq += 1
            while True:
                try:
                    data = sock.recv(2048)
                except BlockingIOError:
                    break
                if len(data) > 12 and data[1] & 0x7F == 0:
                    heard += data[12:]
            await asyncio.sleep(0.02)
        sock.close()
        samples = np.frombuffer(decode(bytes(heard)), dtype="<i2").astype(np.float64) / 32768
        last = samples[-8000:]  # the last second: the music
        assert band_share(last, 8000, MUSIC_TONE) > TONE_SHARE
        assert level_dbfs(last) > TONE_DBFS


async def test_bad_rtp_addresses_are_refused_and_nothing_starts(media_server: Running) -> None:
    center = media_server.server.center
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN, timeout=30) as http:
        for rtp in ("198.18.0.1", "0.0.0.0:4000", "224.0.0.1:4000", "1.2.3.4:70000", "host:1"):
            r = await http.post(
                "/api/sim/calls", json={"queue": 1, "from": "+420777111222", "rtp": rtp}
            )
            assert r.status_code == 422, (rtp, r.text)
        both = {"queue": 1, "from": "+420777111222", "rtp": "198.18.0.1:4000", "audio": "voice"}
        assert (await http.post("/api/sim/calls", json=both)).status_code == 422
    assert not center.calls


async def test_without_an_engine_rtp_is_media_unavailable(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN, timeout=30) as http:
        r = await http.post(
            "/api/sim/calls", json={"queue": 1, "from": "+420777111222", "rtp": "127.0.0.1:4000"}
        )
        assert r.status_code == 503 and r.json()["code"] == "MEDIA_UNAVAILABLE"
    assert not running.server.center.calls
