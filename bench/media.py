"""The media benchmark (issue 15): N concurrent calls with audio through Janus.

    make bench-media                         # about 6 minutes
    BENCH_QUICK=1 make bench-media           # about 2 minutes
    .venv/bin/python -m bench.media          # the same without make

Half the calls are callers waiting in a queue with a greeting, hold music and their place
announced every 20 s; the other half are answered by an agent on the softphone in a queue that
records ``always`` (the engine writes each caller's audio to disk). The callers are plain RTP
peers (G.711 μ-law, 20 ms, a 440 Hz tone) in a process of their own (``bench/rtpload.py``),
joined to the calls as SIP legs would be (``POST /api/sim/calls`` with ``"rtp"``); the agents
are operator WebSockets (no browser: their side is silent).

Two runs, the same calls level by level (``LEVELS``, more calls added at each):
- ``engine``: Janus alone, driven by ucs's Janus adapter in this process (no ucs server): a
  room per call, music looped into half of them, the other half recorded. The ratio to beat.
- ``ucs``: ``ucs serve --media janus`` with the same calls made through its API.

At each level, over ``WINDOW`` seconds: Janus's CPU and memory, ucs's (its process; its
helpers such as the store's writer and espeak-ng apart), what the callers received (lost
packets, the longest gap between two packets of each call), the load generator's own CPU.
A level *holds* when at most 1 % of the packets the engine should have sent are missing and no
sampled call (every tenth) had a gap over 60 ms. Needs Janus, janus-pp-rec, opusdec, sox and
espeak-ng (``make media-engine``); skipped with the reason otherwise. Plain RTP needs no ICE,
so no network namespace and no root: everything is on 127.0.0.1.
Results: ``bench/results/media.json`` and ``media.md``; figures in docs/performance.md.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.rtpload import rtp_worker
from bench.run import HOST, RESULTS, Server, _descendants, _stat, log, machine, rss_kb
from bench.seed import ADMIN_TOKEN, PASSWORD, agent_name

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
LEVELS = (10, 20, 40) if QUICK else (25, 50, 100, 150, 200, 250, 300, 400, 500)
WINDOW = 6.0 if QUICK else 15.0
"""Seconds each level is measured, after ``SETTLE`` seconds of settling."""
SETTLE = 3.0
GAP_MS = 60.0
LOSS = 0.01
TARGET = 500
TOOLS = ("janus", "janus-pp-rec", "opusdec", "opusenc", "sox", "espeak-ng")
WAITING_QUEUE, RECORDED_QUEUE = 1, 2


def _ticks(pid: int) -> float:
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


class Cpu:
    """CPU seconds of Janus (and of rtpengine, ``relay``, when it relays the legs), of the
    ucs process and of ucs's other helpers, and memory."""

    def __init__(self, janus: int, ucs: int | None, relay: int | None = None) -> None:
        self.janus, self.ucs, self.relay = janus, ucs, relay

    def sample(self) -> dict[str, float]:
        out = {"janus": _ticks(self.janus), "janus_rss_mb": rss_kb(self.janus) / 1024}
        engines = {self.janus} if self.relay is None else {self.janus, self.relay}
        if self.relay is not None:
            out["rtpengine"] = _ticks(self.relay)
            out["rtpengine_rss_mb"] = rss_kb(self.relay) / 1024
        if self.ucs is not None:
            helpers = [p for p in _descendants(self.ucs) if p not in engines]
            helpers = [p for p in helpers if not engines & {*_descendants(p), p}]
            out["ucs"] = _ticks(self.ucs)
            out["helpers"] = sum(_ticks(p) for p in helpers if _comm(p) not in ENGINES)
            out["ucs_rss_mb"] = rss_kb(self.ucs) / 1024
        return out


ENGINES = ("janus", "rtpengine")


def engine_of(pid: int, name: str = "janus") -> int:
    """The server's engine child (``janus`` or ``rtpengine``)."""
    for child in _descendants(pid):
        if _comm(child) == name:
            return child
    raise RuntimeError(f"the server runs no {name}")


async def _measure(
    gen: Any, cpu: Cpu, n: int, started: float, streams: int | None = None
) -> dict[str, Any]:
    """One level: settle, then ``WINDOW`` seconds of CPU and of what the callers (the first
    ``streams`` peers sending, by default ``n``) received."""
    await asyncio.sleep(SETTLE)
    gen.send(("window",))
    await asyncio.to_thread(gen.recv)
    before, t0 = cpu.sample(), time.monotonic()
    await asyncio.sleep(WINDOW)
    after, seconds = cpu.sample(), time.monotonic() - t0
    gen.send(("window",))
    got = await asyncio.to_thread(gen.recv)
    expected = got["seconds"] / 0.02
    received, gaps = got["received"][: streams or n], got["gaps_ms"][: streams or n]
    lost = sum(max(0.0, expected - r) for r in received) / (expected * len(received))
    sampled = [g for i, g in enumerate(gaps) if i % 10 == 0]
    figures = {
        "calls": n,
        "janus_cores": round((after["janus"] - before["janus"]) / seconds, 3),
        "janus_rss_mb": round(after["janus_rss_mb"], 1),
        "lost": round(lost, 4),
        "gap_ms_max_sampled": max(sampled) if sampled else None,
        "gap_ms_p99": round(statistics.quantiles(gaps, n=100)[98], 1) if len(gaps) > 1 else None,
        "sender_late_ms": got["sender_late_ms"],
        "at_s": round(time.monotonic() - started, 1),
    }
    if "rtpengine" in after:
        figures["rtpengine_cores"] = round((after["rtpengine"] - before["rtpengine"]) / seconds, 3)
        figures["rtpengine_rss_mb"] = round(after["rtpengine_rss_mb"], 1)
        figures["engine_cores"] = round(figures["janus_cores"] + figures["rtpengine_cores"], 3)
        figures["engine_cpu_per_call_pct"] = round(100 * figures["engine_cores"] / n, 2)
    if "ucs" in after:
        figures["ucs_cores"] = round((after["ucs"] - before["ucs"]) / seconds, 3)
        figures["helpers_cores"] = round((after["helpers"] - before["helpers"]) / seconds, 3)
        figures["ucs_rss_mb"] = round(after["ucs_rss_mb"], 1)
    figures["janus_cpu_per_call_pct"] = round(100 * figures["janus_cores"] / n, 2)
    figures["holds"] = lost <= LOSS and (figures["gap_ms_max_sampled"] or 0) <= GAP_MS
    log(f"  {n} calls: {json.dumps(figures)}")
    return figures


async def _levels(
    gen: Any,
    cpu: Callable[[], Cpu],
    add: Callable[[int], Awaitable[None]],
    streams: Callable[[int], int] = lambda n: n,
    levels: tuple[int, ...] = LEVELS,
) -> list[dict[str, Any]]:
    """Add calls up to each level and measure it (what ``streams(n)`` peers received); stop
    after the first level that does not hold (past it the machine is saturated: minutes a
    level, and nothing more to learn)."""
    rows, have, started = [], 0, time.monotonic()
    for n in levels:
        for i in range(have, n):
            await add(i)
        have = n
        rows.append(await _measure(gen, cpu(), n, started, streams(n)))
        if not rows[-1]["holds"]:
            break
    return rows


# --- the engine alone ---------------------------------------------------------------------


async def engine_alone(gen: Any, ports: list[int], sounds: Path, work: Path) -> dict[str, Any]:
    from ucs.media.janus import JanusMedia
    from ucs.media.janus_config import JanusConfig
    from ucs.media.supervisor import Supervisor

    media = JanusMedia()
    up = asyncio.Event()

    def on_up(client: Any) -> None:
        media.up(client)
        up.set()

    config = JanusConfig(runtime_dir=work / "janus", rtp_ip=HOST)
    supervisor = Supervisor(config, on_up, lambda reason: None, cleanup=True)
    supervisor.start()
    await asyncio.wait_for(up.wait(), 30)
    assert supervisor.pid is not None
    janus = supervisor.pid
    from ucs.media.sounds import Sounds

    found = Sounds(sounds).path("music")
    assert found is not None, "the default sounds have no music"
    music = str(found)
    folder = work / "parts"

    async def add(i: int) -> None:
        uid = f"bench-{i}"
        ip, port = await media.connect_rtp(uid, "far", (HOST, ports[i]), "pcmu")
        gen.send(("send", i, f"{ip}:{port}"))
        if i % 2 == 0:
            await media.play(uid, music, loop=True, key="music")
        else:
            (folder / uid).mkdir(parents=True)
            await media.record(uid, str(folder / uid))

    try:
        rows = await _levels(gen, lambda: Cpu(janus, None), add)
    finally:
        await supervisor.stop()
    return {"levels": rows, "recorded_mb_per_call_minute": _mjr_rate(folder, rows)}


def _mjr_rate(folder: Path, rows: list[dict[str, Any]]) -> float | None:
    """MB a recorded call's part files grew by per minute (the engine's own writing)."""
    sizes = [sum(f.stat().st_size for f in d.iterdir()) for d in folder.iterdir() if d.is_dir()]
    seconds = rows[-1]["at_s"] if rows else 0
    if not sizes or not seconds:
        return None
    return round(max(sizes) / 1e6 / (seconds / 60), 3)


# --- through ucs --------------------------------------------------------------------------


async def _agent(url: str, i: int, identifier: str = "softphone") -> ClientConnection:
    """bench<i> on the softphone, READY, answering whatever rings it (or on ``identifier``, a
    desk phone that answers by itself)."""
    ws = await connect(url, max_size=None)
    ids = iter(range(10**9))

    async def ask(method: str, *args: Any) -> dict[str, Any]:
        rid = f"a{next(ids)}"
        await ws.send(
            json.dumps({"v": 1, "type": "request", "id": rid, "method": method, "args": list(args)})
        )
        while True:
            msg: dict[str, Any] = json.loads(await ws.recv())
            if msg.get("id") == rid:
                return msg

    await ws.send(json.dumps({"v": 1, "type": "hello"}))
    await ws.recv()
    for method, args in (
        ("login", (agent_name(i), PASSWORD)),
        ("selectIdentifier", (identifier,)),
        ("provision", ()),
        ("changeStatus", ("READY",)),
    ):
        answer = await ask(method, *args)
        if answer.get("type") != "result":
            raise RuntimeError(f"{agent_name(i)} {method}: {answer}")

    async def answer_rings() -> None:
        async for raw in ws:
            msg = json.loads(raw)
            if msg.get("type") == "call.changed" and msg.get("what") == "ringing":
                await ws.send(
                    json.dumps(
                        {"v": 1, "type": "request", "id": "ans", "method": "answer", "args": []}
                    )
                )

    if identifier == "softphone":
        asyncio.get_running_loop().create_task(answer_rings())
    return ws


async def through_ucs(gen: Any, ports: list[int], sounds: Path, work: Path) -> dict[str, Any]:
    agents = max(LEVELS) // 2 + 1
    server = Server(work, agents, "media")
    shutil.copytree(sounds, work / "ucs-sounds")
    server.extra = ["--media", "janus", "--recordings-dir", str(work / "recordings")]
    await asyncio.to_thread(server.start)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    http = httpx.AsyncClient(base_url=server.http, headers=headers, timeout=60)
    sockets: list[ClientConnection] = []
    try:
        queue = {"greeting": "welcome", "music": "music", "announce_every": 20}
        for q, body in ((WAITING_QUEUE, queue), (RECORDED_QUEUE, {"recording": "always"})):
            r = await http.patch(f"/api/queues/{q}", json=body)
            r.raise_for_status()
        deadline = time.monotonic() + 60
        while True:  # the engine starts beside the server
            try:
                sockets.append(await _agent(server.ws, 1))
                break
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
        janus = engine_of(server.pid)
        made = 1

        async def add(i: int) -> None:
            nonlocal made
            waiting = i % 2 == 0
            if not waiting and made < i // 2 + 1:
                sockets.append(await _agent(server.ws, made + 1))
                made += 1
            body = {
                "queue": WAITING_QUEUE if waiting else RECORDED_QUEUE,
                "from": f"+42060{i:07d}",
                "rtp": f"{HOST}:{ports[i]}",
            }
            r = await http.post("/api/sim/calls", json=body)
            r.raise_for_status()
            gen.send(("send", i, r.json()["rtp"]))

        rows = await _levels(gen, lambda: Cpu(janus, server.pid), add)
        recorded = sum(1 for _ in (work / "recordings" / ".parts").iterdir())
        return {"levels": rows, "recorded_calls": recorded, "startup_s": server.startup_s}
    finally:
        for ws in sockets:
            await ws.close()
        await http.aclose()
        if server.proc is not None:
            server.proc.terminate()
            await asyncio.to_thread(server.proc.wait, 60)


# --- the run ------------------------------------------------------------------------------


def _largest(rows: list[dict[str, Any]]) -> int:
    """The largest level that held with every smaller one holding too."""
    largest = 0
    for row in rows:
        if not row["holds"]:
            break
        largest = row["calls"]
    return largest


def summary(results: dict[str, Any]) -> dict[str, Any]:
    engine, ucs = results["engine"]["levels"], results["ucs"]["levels"]
    both = {r["calls"]: r for r in engine}
    ratios = [
        round((u["janus_cores"] + u["ucs_cores"]) / both[u["calls"]]["janus_cores"], 3)
        for u in ucs
        if u["calls"] in both and both[u["calls"]]["janus_cores"] > 0
    ]
    return {
        "largest_n_engine": _largest(engine),
        "largest_n_ucs": _largest(ucs),
        "target_n": TARGET,
        "ucs_over_engine": ratios,
        "ucs_share_of_engine": [
            round(u["ucs_cores"] / both[u["calls"]]["janus_cores"], 3)
            for u in ucs
            if u["calls"] in both and both[u["calls"]]["janus_cores"] > 0
        ],
    }


def markdown(results: dict[str, Any]) -> str:
    m, s = results["machine"], results["summary"]
    lines = [
        "# Media benchmark",
        "",
        f"{m['date']}, {m['cores']} cores ({m['cpu']}), commit {m['commit']}, load average "
        f"{m['load_avg_at_start']} at start and {m['load_avg_at_end']} at the end.",
        "",
        f"Largest N that held: **{s['largest_n_ucs']}** through ucs, {s['largest_n_engine']} "
        f"with the engine alone (target {s['target_n']}).",
        "",
        "| run | calls | Janus cores | Janus % / call | Janus MB | ucs cores | ucs helpers "
        "| ucs MB | lost | gap max (sampled) ms | gap p99 ms | held |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in ("engine", "ucs"):
        for r in results[run]["levels"]:
            lines.append(
                f"| {run} | {r['calls']} | {r['janus_cores']} | {r['janus_cpu_per_call_pct']} "
                f"| {r['janus_rss_mb']} | {r.get('ucs_cores', '')} | {r.get('helpers_cores', '')} "
                f"| {r.get('ucs_rss_mb', '')} | {r['lost']:.2%} | {r['gap_ms_max_sampled']} "
                f"| {r['gap_ms_p99']} | {'yes' if r['holds'] else 'no'} |"
            )
    lines += [
        "",
        f"ucs's process over Janus's CPU at each level: {s['ucs_share_of_engine']}; "
        f"recorded part files grow {results['engine']['recorded_mb_per_call_minute']} MB per "
        "call and minute (the WAV made at the end: 1.92 MB per minute).",
        "",
    ]
    return "\n".join(lines)


def missing() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


Run = Callable[[Any, list[int], Path, Path], Awaitable[dict[str, Any]]]
"""A run of a media benchmark: ``(generator's pipe, its ports, sounds folder, work folder)``
to its results."""


async def both_runs(
    results: dict[str, Any], name: str, runs: dict[str, Run], ports: int
) -> dict[str, Any]:
    """Each run (the engine alone, then through ucs) with an RTP generator of its own (a
    process, ``ports`` ports bound) and the default sounds, its results in ``results`` with the
    generator's CPU; the load average at the end."""
    from ucs.media.sounds import Sounds

    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix=f"ucs-bench-{name}-") as tmp:
        work = Path(tmp)
        sounds = work / "sounds"
        await Sounds(sounds).ensure_defaults()
        for run, how in runs.items():
            log(f"{name}: {run}, levels {results['levels']}")
            parent, child = ctx.Pipe()
            gen = ctx.Process(target=rtp_worker, args=(HOST, child), daemon=True)
            gen.start()
            parent.send(("bind", ports))
            bound = parent.recv()
            (work / run).mkdir()
            try:
                results[run] = await how(parent, bound, sounds, work / run)
            finally:
                parent.send(("stop",))
                results.setdefault(run, {})["generator_cpu_s"] = parent.recv()["cpu_s"]
                gen.join(10)
    results["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


async def _main() -> dict[str, Any]:
    results: dict[str, Any] = {"machine": machine(), "window_s": WINDOW, "levels": LEVELS}
    runs: dict[str, Run] = {"engine": engine_alone, "ucs": through_ucs}
    await both_runs(results, "media", runs, max(LEVELS))
    results["summary"] = summary(results)
    return results


def main() -> int:
    lacking = missing()
    if lacking:
        print(
            f"bench-media skipped: {', '.join(lacking)} missing (make media-engine installs them)"
        )
        return 0
    results = asyncio.run(_main())
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "media.json").write_text(json.dumps(results, indent=2) + "\n")
    text = markdown(results)
    (RESULTS / "media.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
