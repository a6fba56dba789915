"""The media benchmark over SIP (issue 15): N calls with audio, every leg a SIP leg.

    make bench-media-sip                     # about 8 minutes
    BENCH_QUICK=1 make bench-media-sip       # about 2 minutes
    .venv/bin/python -m bench.media_sip      # the same without make

What a contact center on a SIP trunk with desk phones runs (``--switch sip``, ``--media-relay
auto``): half the calls are callers waiting in a queue (a greeting, the hold music from the
queue's shared music room, their place announced every 20 s); the other half are answered by
an agent's desk phone in a queue that records ``always``. rtpengine relays every leg; a talking
call needs no mixing, so its two legs are forwarded to each other and rtpengine records them
(``ucs.media.forwarding``). Each caller and each phone is a plain RTP peer of the load
generator (``bench/rtpload.py``, a process of its own: G.711 μ-law, 20 ms, 440 Hz), and every
call a real SIP dialog from this process (the trunk, and the agents' phones, registered, that
answer their ringing INVITE by themselves).

Two runs, the same calls level by level (``LEVELS``), as ``bench/media.py``:
- ``engine``: Janus and rtpengine alone, driven by ucs's own adapters in this process (no
  server, no SIP): each leg relayed, the waiting callers in the shared music room, the talking
  calls forwarded and recorded. The ratio to beat.
- ``ucs``: ``ucs serve --switch sip --media janus`` with the same calls made over SIP.

At each level: the CPU and memory of Janus, of rtpengine and of ucs (its process; helpers such
as the store's writer apart), what every peer received (a caller waiting hears the music, a
talking caller the phone, the phone the caller): lost packets and the longest gap, a level
*holds* as in ``bench/media.py``. Needs Janus, rtpengine, sox and espeak-ng (``make
media-engine``); skipped with the reason otherwise. Everything on 127.0.0.1, no root.
Results: ``bench/results/media-sip.json`` and ``media-sip.md``; figures in docs/performance.md.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx
from tests.sip.peer import SDP, Peer, free_udp_port

from bench.media import (
    QUICK,
    TOOLS,
    Cpu,
    Run,
    _agent,
    _largest,
    both_runs,
    engine_of,
)
from bench.run import HOST, RESULTS, Config, Server, machine, run_baseline
from bench.seed import ADMIN_TOKEN, phone_name
from bench.sip_media import Trunk
from ucs.media.sdp import audio_of

LEVELS = (20, 40) if QUICK else (100, 200, 300, 400, 500)
TARGET = 500
SECRET = "bench-phone-secret"
QUEUE, NUMBER = 1, "100"
"""The queue every call rings (greeting, music, places, recorded ``always``), and its number."""


def _streams(n: int) -> int:
    """The peers sending at level ``n``: every caller, and a phone for every other call."""
    return n + n // 2


def _phone_index(i: int) -> int:
    """The generator's peer of phone ``i`` (1, 2, …): after every caller's."""
    return max(LEVELS) + i - 1


# --- the engines alone ---------------------------------------------------------------------


async def engine_alone(gen: Any, ports: list[int], sounds: Path, work: Path) -> dict[str, Any]:
    from bench.media import _levels
    from ucs.media.forwarding import ForwardingMedia
    from ucs.media.janus_config import JanusConfig
    from ucs.media.recorder import Recorder
    from ucs.media.relay import Relay, RelayConfig
    from ucs.media.sounds import Sounds
    from ucs.media.supervisor import Supervisor

    recorder = Recorder(work / "recordings", lambda: None)
    relay = Relay(
        RelayConfig(HOST, work / "relay", recordings=recorder.relay_folder),
        lambda *_: None,
        lambda _: None,
    )
    media = ForwardingMedia(relay)
    up = asyncio.Event()

    def on_up(client: Any) -> None:
        media.up(client)
        up.set()

    supervisor = Supervisor(
        JanusConfig(runtime_dir=work / "janus", rtp_ip=HOST), on_up, lambda _: None, cleanup=True
    )
    supervisor.start()
    relay.start()
    await asyncio.wait_for(up.wait(), 30)
    while not relay.available:  # noqa: ASYNC110 (a child process to wait for)
        await asyncio.sleep(0.1)
    assert supervisor.pid is not None and relay.pid is not None
    music = Sounds(sounds).path("music")
    assert music is not None, "the default sounds have no music"

    async def leg(uid: str, party: Any, index: int) -> None:
        """The peer ``index`` is ``party``'s phone, relayed as the server relays a SIP leg."""
        room_side: list[tuple[str, int]] = []

        async def join(at: tuple[str, int]) -> tuple[str, int]:
            room_side.append(at)
            return await media.connect_rtp(uid, party, at, "pcmu", relayed=True)

        ip, port = await relay.anchor(uid, party, (HOST, ports[index]), 0, None, join)
        gen.send(("send", index, f"{ip}:{port}"))
        await media.relayed(uid, party, room_side[0], "pcmu")

    async def add(i: int) -> None:
        uid = f"bench-{i}"
        await leg(uid, "far", i)
        if i % 2 == 0:  # waiting, with the music of the shared room
            await media.play(uid, str(music), loop=True, key="music")
            return
        await leg(uid, "agent", _phone_index(i // 2 + 1))  # answered, recorded, forwarded
        folder = recorder.begin(uid, (1, "bench1"), QUEUE)
        await media.record(uid, str(folder))

    try:
        rows = await _levels(
            gen, lambda: Cpu(supervisor.pid or 0, None, relay.pid), add, _streams, LEVELS
        )
    finally:
        await relay.stop()
        await supervisor.stop()
    return {"levels": rows, "recorded_mb_per_call_minute": _pcap_rate(recorder.relay_folder)}


def _pcap_rate(folder: Path) -> float | None:
    """MB a recorded call's pcap files (two legs) grow by per minute: every file's bytes over
    the time it was written (from its first packet to its last change), twice (two legs)."""
    from ucs.media import pcap

    size = seconds = 0.0
    for path in (folder / "pcaps").glob("*.pcap"):
        first = pcap.first_time(path)
        if first is not None:
            size += path.stat().st_size
            seconds += max(0.0, path.stat().st_mtime - first)
    if not seconds:
        return None
    return round(2 * size / seconds * 60 / 1e6, 3)


# --- through ucs ---------------------------------------------------------------------------


class _Phones:
    """The agents' desk phones: each registered, answering its ringing INVITE at once with
    its generator peer's address, which then sends to where the ACK's SDP says."""

    def __init__(self, gen: Any, ports: list[int], server: tuple[str, int]) -> None:
        self.gen, self.ports, self.server = gen, ports, server
        self.peers: list[Peer] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def add(self, i: int) -> None:
        phone = await Peer(phone_name(i), self.server).open()
        self.peers.append(phone)
        answer = await phone.register(SECRET, expires=3600)
        if answer.code != 200:
            raise RuntimeError(f"{phone_name(i)} could not register: {answer.first}")
        self.tasks.append(asyncio.create_task(self._answer(phone, _phone_index(i))))

    async def _answer(self, phone: Peer, index: int) -> None:
        while True:
            invite = await phone.expect("INVITE", wait=3600)
            phone.respond(invite, 200, body=SDP.replace("{port}", str(self.ports[index])))
            ack = await phone.expect("ACK", wait=30)
            audio = audio_of(ack.body)
            if audio is not None:
                self.gen.send(("send", index, f"{audio.ip}:{audio.port}"))

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for phone in self.peers:
            phone.close()


async def through_ucs(gen: Any, ports: list[int], sounds: Path, work: Path) -> dict[str, Any]:
    from bench.media import _levels

    sip = free_udp_port()
    trunk = await Trunk((HOST, sip)).open()
    assert isinstance(trunk, Trunk)
    server = Server(work, max(LEVELS) // 2, "media-sip", phone_secret=SECRET)
    shutil.copytree(sounds, work / "ucs-sounds")
    server.extra = ["--switch", "sip", "--sip-port", str(sip), "--sip-trunk"]
    server.extra += [f"{HOST}:{trunk.port}", "--media", "janus", "--media-relay", "auto"]
    server.extra += ["--recordings-dir", str(work / "recordings")]
    await asyncio.to_thread(server.start)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    http = httpx.AsyncClient(base_url=server.http, headers=headers, timeout=60)
    phones = _Phones(gen, ports, (HOST, sip))
    sockets = []
    try:
        body = {"greeting": "welcome", "music": "music", "announce_every": 20}
        r = await http.patch(f"/api/queues/{QUEUE}", json={**body, "recording": "always"})
        r.raise_for_status()
        async with asyncio.timeout(60):  # the engines start beside the server
            while True:
                try:
                    janus, relay = engine_of(server.pid), engine_of(server.pid, "rtpengine")
                    break
                except RuntimeError:
                    await asyncio.sleep(0.5)
        await asyncio.sleep(3.0)  # their APIs up, the default sounds made

        async def add(i: int) -> None:
            """Caller ``i`` rings the queue; every other one an agent comes READY on its
            desk phone, and is offered the caller who waited longest."""
            sdp = SDP.replace("{port}", str(ports[i]))
            _, ok = await trunk.dial_with(NUMBER, sdp)  # answered by the server at once
            audio = audio_of(ok.body)
            assert audio is not None, ok.body
            gen.send(("send", i, f"{audio.ip}:{audio.port}"))
            if i % 2 == 1:
                agent = i // 2 + 1
                await phones.add(agent)
                sockets.append(await _agent(server.ws, agent, phone_name(agent)))

        rows = await _levels(gen, lambda: Cpu(janus, server.pid, relay), add, _streams, LEVELS)
        return {"levels": rows, "startup_s": server.startup_s}
    finally:
        for ws in sockets:
            await ws.close()
        phones.close()
        trunk.close()
        await http.aclose()
        if server.proc is not None:
            server.proc.terminate()
            await asyncio.to_thread(server.proc.wait, 60)


# --- the run -------------------------------------------------------------------------------


def markdown(results: dict[str, Any]) -> str:
    m, s = results["machine"], results["summary"]
    lines = [
        "# Media benchmark over SIP",
        "",
        f"{m['date']}, {m['cores']} cores ({m['cpu']}), commit {m['commit']}, load average "
        f"{m['load_avg_at_start']} at start and {m['load_avg_at_end']} at the end; echo "
        f"baseline {m.get('echo_msgs_per_s', 0):,.0f} msgs/s (after the runs).",
        "",
        f"Largest N that held: **{s['largest_n_ucs']}** through ucs, {s['largest_n_engine']} "
        f"with the engines alone (target {TARGET}).",
        "",
        "| run | calls | Janus cores | rtpengine cores | engines % / call | ucs cores "
        "| ucs helpers | ucs MB | lost | gap max (sampled) ms | held |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in ("engine", "ucs"):
        for r in results[run]["levels"]:
            lines.append(
                f"| {run} | {r['calls']} | {r['janus_cores']} | {r['rtpengine_cores']} "
                f"| {r['engine_cpu_per_call_pct']} | {r.get('ucs_cores', '')} "
                f"| {r.get('helpers_cores', '')} | {r.get('ucs_rss_mb', '')} | {r['lost']:.2%} "
                f"| {r['gap_ms_max_sampled']} | {'yes' if r['holds'] else 'no'} |"
            )
    lines += [
        "",
        f"ucs's process over the engines' CPU at each level: {s['ucs_share_of_engine']}; "
        f"rtpengine's pcap files grow {results['engine']['recorded_mb_per_call_minute']} MB "
        "per recorded call and minute.",
        "",
    ]
    return "\n".join(lines)


def summary_of(results: dict[str, Any]) -> dict[str, Any]:
    """As ``bench.media.summary``, the engines being Janus and rtpengine together."""
    engine, ucs = results["engine"]["levels"], results["ucs"]["levels"]
    both = {r["calls"]: r for r in engine}
    pairs = [(u, both[u["calls"]]) for u in ucs if u["calls"] in both]
    pairs = [(u, e) for u, e in pairs if e["engine_cores"] > 0]
    return {
        "largest_n_engine": _largest(engine),
        "largest_n_ucs": _largest(ucs),
        "target_n": TARGET,
        "ucs_over_engine": [
            round((u["engine_cores"] + u["ucs_cores"]) / e["engine_cores"], 3) for u, e in pairs
        ],
        "ucs_share_of_engine": [round(u["ucs_cores"] / e["engine_cores"], 3) for u, e in pairs],
    }


async def _main() -> dict[str, Any]:
    results: dict[str, Any] = {"machine": machine(), "levels": LEVELS}
    runs: dict[str, Run] = {"engine": engine_alone, "ucs": through_ucs}
    await both_runs(results, "media-sip", runs, _phone_index(max(LEVELS) // 2) + 1)
    results["summary"] = summary_of(results)
    return results


def main() -> int:
    lacking = [t for t in (*TOOLS, "rtpengine") if shutil.which(t) is None]
    if lacking:
        print(f"bench-media-sip skipped: {', '.join(lacking)} missing (make media-engine)")
        return 0
    results = asyncio.run(_main())
    echo = run_baseline(Config.from_env(), mp.get_context("spawn"), 40_000, 100)
    results["machine"]["echo_msgs_per_s"] = echo["msgs_per_s"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "media-sip.json").write_text(json.dumps(results, indent=2) + "\n")
    text = markdown(results)
    (RESULTS / "media-sip.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
