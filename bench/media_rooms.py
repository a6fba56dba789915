"""Janus's CPU per waiting caller: a room of its own each, or one room shared (issue 15).

    .venv/bin/python -m bench.media_rooms [LEVELS]      # e.g. 25,50,100,200 (the default)

Callers waiting in a queue all hear the same music. ucs gives each call an AudioBridge room of
its own (``ucs.media.janus``), so Janus mixes, and decodes the music file, once per waiting
caller. This measures what that costs against one room whose music every waiting caller hears
(each joined muted, so nobody hears another), and against a room each with nothing played (the
floor of any room: a connected call's), Janus alone (no ucs server), with the media
benchmark's callers (``bench/rtpload.py``: plain RTP, G.711 μ-law, 20 ms) and its measure of a
level (``bench.media._measure``: Janus's CPU, lost packets, the longest gap of sampled calls).
It prints a JSON line per way and level, then the machine's echo baseline
(``bench/baseline.py``); docs/performance.md has the figures.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import media as bench_media
from bench.rtpload import rtp_worker
from bench.run import HOST, Config, log, run_baseline

LEVELS = (25, 50, 100, 200)
SHARED_ROOM = 999_999
KEPT = ("calls", "janus_cores", "janus_cpu_per_call_pct", "lost", "gap_ms_max_sampled", "holds")


WAYS = ("a room each", "one shared room", "a room each, silent")
"""The music in a room of each caller's own, in one room for all, and no music at all (what a
room costs with nothing to mix: the floor of a connected call's room)."""


async def _way(way: str, levels: tuple[int, ...], work: Path) -> list[dict[str, Any]]:
    from ucs.media.janus import SAMPLING_RATE, JanusMedia
    from ucs.media.janus_config import JanusConfig
    from ucs.media.sounds import Sounds
    from ucs.media.supervisor import Supervisor

    sounds = Sounds(work / "sounds")
    await sounds.ensure_defaults()
    music = str(sounds.path("music"))
    gen_end, child = mp.get_context("spawn").Pipe()
    gen = mp.get_context("spawn").Process(target=rtp_worker, args=(HOST, child), daemon=True)
    gen.start()
    gen_end.send(("bind", max(levels)))
    ports = gen_end.recv()
    media, up = JanusMedia(), asyncio.Event()

    def on_up(client: Any) -> None:
        media.up(client)
        up.set()

    shared = way == "one shared room"
    config = JanusConfig(runtime_dir=work / f"janus-{WAYS.index(way)}", rtp_ip=HOST)
    supervisor = Supervisor(config, on_up, lambda _: None, cleanup=True)
    supervisor.start()
    await asyncio.wait_for(up.wait(), 30)
    client, pid = media.client, supervisor.pid
    assert client is not None and pid is not None
    if shared:
        manager = await client.attach()
        create = {"room": SHARED_ROOM, "sampling_rate": SAMPLING_RATE, "audiolevel_event": False}
        await client.message(
            manager, {"request": "create", "allow_rtp_participants": True, **create}
        )
        play = {"room": SHARED_ROOM, "filename": music, "loop": True, "file_id": "music"}
        await client.message(manager, {"request": "play_file", **play})

    async def add(i: int) -> None:
        if shared:
            handle = await client.attach()
            join = {"room": SHARED_ROOM, "display": f"caller{i}", "codec": "pcmu", "muted": True}
            data, _ = await client.message(
                handle, {"request": "join", **join, "rtp": {"ip": HOST, "port": ports[i]}}
            )
            where = (data["rtp"]["ip"], data["rtp"]["port"])
        else:
            where = await media.connect_rtp(f"caller{i}", "far", (HOST, ports[i]), "pcmu")
            if way == "a room each":
                await media.play(f"caller{i}", music, loop=True, key="music")
        gen_end.send(("send", i, f"{where[0]}:{where[1]}"))

    rows: list[dict[str, Any]] = []
    have, started = 0, time.monotonic()
    try:
        for n in levels:
            for i in range(have, n):
                await add(i)
            have = n
            cpu = bench_media.Cpu(pid, None)
            rows.append(await bench_media._measure(gen_end, cpu, n, started))
    finally:
        await supervisor.stop()
        gen_end.send(("stop",))
        gen_end.recv()
        gen.join(10)
    return [{k: row[k] for k in KEPT} for row in rows]


async def _main(levels: tuple[int, ...]) -> None:
    with tempfile.TemporaryDirectory(prefix="ucs-bench-rooms-") as tmp:
        for way in WAYS:
            log(f"media rooms: {way}, levels {levels}")
            for row in await _way(way, levels, Path(tmp)):
                print(json.dumps({"way": way, **row}), flush=True)


def main() -> int:
    lacking = bench_media.missing()
    if lacking:
        print(f"media_rooms skipped: {', '.join(lacking)} missing (make media-engine)")
        return 0
    levels = tuple(int(x) for x in sys.argv[1].split(",")) if len(sys.argv) > 1 else LEVELS
    asyncio.run(_main(levels))
    echo = run_baseline(Config.from_env(), mp.get_context("spawn"), 40_000, 100)
    print(json.dumps({"echo_msgs_per_s": echo["msgs_per_s"]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
