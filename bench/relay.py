"""What rtpengine costs a SIP leg it relays in front of the room (``ucs.media.relay``).

    .venv/bin/python -m bench.relay [LEVELS] [WAY]   # e.g. 25,50,100,200 (the default)

WAY is how each leg is used (``WAYS``): ``forward`` (the default: what ucs does today), ``record``
(rtpengine also writes each leg to a pcap file, ``--recording-method=pcap``: what recording a
forwarded call would cost), ``play`` (the room sends nothing; rtpengine plays the hold music to
the phone itself, ``play media``: whether it could be the waiting callers' music), ``chain``
(legs in pairs, each pair's room sides pointed at each other with ``Relay.repoint``, as ucs
forwards a two-party call leg to leg, with no room; its figures are per leg, two a call).

rtpengine (user space, as ``ucs serve`` runs it) relays N legs on loopback, each set up as the
server sets one up (``Relay.anchor``: the phone's offer with ``telephone-event`` consumed, the
room's answer). The media benchmark's callers (``bench/rtpload.py``) are both ends: one process
plays the phones, another the room (which, as Janus's mixer does, sends a packet every 20 ms
back), so each leg carries 50 packets a second each way. Per level: rtpengine's CPU (a share
of a core, and per leg), its memory, packets lost each way and the longest gap of the phones'
audio, and the load generators' CPU; then the machine's echo baseline (``bench/baseline.py``).
It prints a JSON line per level and one for the baseline; docs/performance.md has the figures,
beside what Janus costs a call (0.45-0.5 % of a core).
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

from bench.media import _ticks
from bench.rtpload import rtp_worker
from bench.run import HOST, Config, log, rss_kb, run_baseline

LEVELS = (25, 50, 100, 200)
WAYS = ("forward", "record", "play", "chain")
MUSIC = Path("/usr/share/asterisk/moh/macroform-cold_day.wav")
"""What ``play`` plays (Debian's ``asterisk-moh-opsound-wav``, what ucs's default music is
made from)."""
WINDOW = 10.0
"""Seconds each level is measured, after two to settle."""


async def _levels(levels: tuple[int, ...], work: Path, way: str) -> list[dict[str, Any]]:
    from ucs.media.relay import PHONE, Relay, RelayConfig

    class Recording(RelayConfig):
        def command(self, control: int, keys: int, ports: tuple[int, int]) -> list[str]:
            folder = self.runtime_dir / "recordings"
            folder.mkdir(exist_ok=True)
            pcap = [f"--recording-dir={folder}", "--recording-method=pcap"]
            return [*super().command(control, keys, ports), *pcap, "--recording-format=raw"]

    ctx = mp.get_context("spawn")
    ends = []
    for _ in range(2):
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=rtp_worker, args=(HOST, child), daemon=True)
        proc.start()
        ends.append((parent, proc))
    (phones, _), (room, _) = ends
    config = (Recording if way == "record" else RelayConfig)(HOST, work)
    relay = Relay(config, lambda *_: None, lambda _: None)
    relay.start()
    rows: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(20):
            while not relay.available:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert relay.pid is not None
        made = 0
        room_side: dict[int, tuple[str, int]] = {}
        for n in levels:
            phones.send(("bind", n - made))
            room.send(("bind", n - made))
            phone_ports, room_ports = phones.recv(), room.recv()
            for i, (p, r) in enumerate(zip(phone_ports, room_ports, strict=True)):
                index = made + i

                async def join(at: tuple[str, int], index: int = index, r: int = r) -> Any:
                    room_side[index] = at
                    if way in ("forward", "record"):  # (else the phones hear a file, or each other)
                        room.send(("send", index, f"{at[0]}:{at[1]}"))
                    return HOST, r

                uid = f"leg{index}"
                ip, port = await relay.anchor(uid, "far", (HOST, p), 0, 101, join)
                phones.send(("send", index, f"{ip}:{port}"))
                await _use(relay, relay.legs.calls[uid]["far"], way, PHONE)
            for a in range(made, n - 1, 2) if way == "chain" else ():
                for this, other in ((a, a + 1), (a + 1, a)):
                    await relay.repoint(f"leg{this}", "far", room_side[other])
            made = n
            await asyncio.sleep(2.0)
            for end, _ in ends:
                end.send(("window",))
                end.recv()
            cpu0, t0 = _ticks(relay.pid), time.monotonic()
            await asyncio.sleep(WINDOW)
            seconds = time.monotonic() - t0
            cores = (_ticks(relay.pid) - cpu0) / seconds
            phones.send(("window",))
            heard_by_phones = phones.recv()
            room.send(("window",))
            heard_by_room = room.recv()
            row = {
                "way": way,
                "legs": n,
                "rtpengine_cores": round(cores, 4),
                "rtpengine_cpu_per_leg_pct": round(100 * cores / n, 3),
                "rtpengine_rss_mb": round(rss_kb(relay.pid) / 1024, 1),
                "phones": _heard(heard_by_phones),
                "room": _heard(heard_by_room),
            }
            if way == "record":
                row["recorded_mb"] = round(_size(work / "recordings") / 1e6, 1)
            rows.append(row)
            log(f"relay: {json.dumps(row)}")
    finally:
        await relay.stop()
        for end, proc in ends:
            end.send(("stop",))
            row_cpu = end.recv()
            proc.join(5)
            if rows:
                rows[-1].setdefault("generators_cpu_s", []).append(row_cpu["cpu_s"])
    return rows


async def _use(relay: Any, callid: str, way: str, phone: str) -> None:
    control = relay._control  # the benchmark asks what ucs does not (yet)
    if way == "record":
        await control.command("start recording", **{"call-id": callid})
    elif way == "play":
        play = {"call-id": callid, "from-tag": phone, "file": str(MUSIC), "repeat-times": 100}
        await control.command("play media", **play)


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def _heard(window: dict[str, Any]) -> dict[str, Any]:
    """A generator's window in short: the share of the packets expected that came, the
    longest gap (ms), its own lateness (ms)."""
    expected = 50 * window["seconds"] * len(window["received"])
    return {
        "received_share": round(sum(window["received"]) / expected, 4) if expected else None,
        "gap_ms_max": max(window["gaps_ms"], default=None),
        "sender_late_ms": window["sender_late_ms"],
    }


def main() -> int:
    from ucs.media.relay import relay_installed

    if not relay_installed():
        print("relay skipped: rtpengine is not installed (make media-engine)")
        return 0
    levels = tuple(int(x) for x in sys.argv[1].split(",")) if len(sys.argv) > 1 else LEVELS
    way = sys.argv[2] if len(sys.argv) > 2 else "forward"
    if way not in WAYS:
        print(f"relay: WAY is one of {', '.join(WAYS)}, not {way!r}", file=sys.stderr)
        return 2
    if way == "play" and not MUSIC.exists():
        print(f"relay skipped: {MUSIC} is missing (apt-get install asterisk-moh-opsound-wav)")
        return 0
    with tempfile.TemporaryDirectory(prefix="ucs-bench-relay-") as tmp:
        for row in asyncio.run(_levels(levels, Path(tmp), way)):
            print(json.dumps(row), flush=True)
    echo = run_baseline(Config.from_env(), mp.get_context("spawn"), 40_000, 100)
    print(json.dumps({"echo_msgs_per_s": echo["msgs_per_s"]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
