"""What a SIP call with its audio anchored in Janus costs (``--switch sip --media janus``).

    .venv/bin/python -m bench.sip_media [WAITING] [TALKING] [RELAY]  # defaults: 10, 4, auto

``ucs serve --demo --switch sip --media janus`` in a process of its own; a trunk (this process)
calls queue 100 ``WAITING`` times (the demo's Support: greeting, music, places: each caller is
answered at once by the server and hears the music from Janus), then the extensions 1001–1004
``TALKING`` times (at most 4: the demo's phones, registered here, answer by themselves: two
legs in a room, or, with ``RELAY`` ``auto``, forwarded leg to leg by rtpengine: ``keys`` keeps
them in the room). Every leg is a real SIP dialog and a real G.711 RTP stream (a 440 Hz tone from
the caller, 1 kHz from the phone, ``ucs.media.rtp.RtpPeer``, in this process). Over ``WINDOW``
seconds at each stage: the CPU of Janus, rtpengine and the ucs process (``/proc``), and what the
callers received. A rough figure for a loaded 2-core machine; no ICE, so everything is on
127.0.0.1 and no root is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.sip.peer import SDP, Dialog, Msg, Peer, free_udp_port

from bench.media import _ticks as _cpu
from bench.run import _descendants, free_port, log
from ucs.demo import DEMO_PHONE_SECRETS
from ucs.media.g711 import tone
from ucs.media.rtp import RtpPeer
from ucs.media.sdp import audio_of

WINDOW = 10.0
SETTLE = 3.0
HOST = "127.0.0.1"


def _child(pid: int, name: str) -> int | None:
    for child in _descendants(pid):
        with contextlib.suppress(OSError):
            if Path(f"/proc/{child}/comm").read_text().strip() == name:
                return child
    return None


def _sdp(rtp: RtpPeer) -> str:
    return SDP.replace("{port}", str(rtp.address[1]))


class Trunk(Peer):
    """The trunk: many calls at once, their responses sorted by Call-ID."""

    def __init__(self, server: tuple[str, int]) -> None:
        super().__init__("trunk", server)
        self.calls: dict[str, asyncio.Queue[Msg]] = {}
        self.rtps: list[RtpPeer] = []

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        msg = Msg.parse(data)
        queue = self.calls.get(msg.call_id)
        if queue is not None:
            queue.put_nowait(msg)
        elif msg.method in ("BYE", "OPTIONS"):
            self.respond(msg, 200)

    async def call(self, number: str, password: str | None = None) -> tuple[Dialog, Msg]:
        rtp = await RtpPeer.bind(HOST, tone(440.0))
        d, msg = await self.dial_with(number, _sdp(rtp))
        audio = audio_of(msg.body)
        assert audio is not None, msg.body
        rtp.start((audio.ip, audio.port))
        self.rtps.append(rtp)
        return d, msg

    async def dial_with(self, number: str, sdp: str) -> tuple[Dialog, Msg]:
        """A call to ``number`` offering ``sdp``, answered (200, acknowledged)."""
        d = self.dialog_to(number)
        d.call_id = secrets.token_hex(8)
        inbox = self.calls[d.call_id] = asyncio.Queue()
        self.request("INVITE", d.remote_target, d, sdp)
        async with asyncio.timeout(30):
            while True:
                msg = await inbox.get()
                if msg.code is not None and msg.code >= 200:
                    break
        if msg.code != 200:
            raise RuntimeError(f"the call to {number} failed: {msg.first}")
        self.ack(msg, d)
        return d, msg


async def _phone(name: str, server: tuple[str, int], rtps: list[RtpPeer]) -> None:
    """A demo phone that answers every call by itself (its own offer in the 200, as a late
    offer asks) and says 1 kHz."""
    phone = await Peer(name, server).open()
    assert (await phone.register(DEMO_PHONE_SECRETS[name])).code == 200
    while True:
        invite = await phone.expect("INVITE", wait=3600)
        rtp = await RtpPeer.bind(HOST, tone(1000.0))
        rtps.append(rtp)
        phone.respond(invite, 200, body=_sdp(rtp))
        ack = await phone.expect("ACK")
        audio = audio_of(ack.body)
        if audio is not None:
            rtp.start((audio.ip, audio.port))


async def _measure(server: int, stage: str, calls: int, rtps: list[RtpPeer]) -> dict[str, float]:
    await asyncio.sleep(SETTLE)
    janus = _child(server, "janus")
    assert janus is not None, "no janus under the server"
    relay = _child(server, "rtpengine")
    j0, u0, t0 = _cpu(janus), _cpu(server), time.monotonic()
    r0 = _cpu(relay) if relay is not None else 0
    heard0 = sum(len(r.heard) for r in rtps)
    await asyncio.sleep(WINDOW)
    seconds = time.monotonic() - t0
    j, u = (_cpu(janus) - j0) / seconds, (_cpu(server) - u0) / seconds
    r = (_cpu(relay) - r0) / seconds if relay is not None else 0.0
    heard = (sum(len(r.heard) for r in rtps) - heard0) / 8000 / seconds
    row = {"calls": calls, "janus": j * 100, "rtpengine": r * 100, "ucs": u * 100}
    row["legs_heard"] = heard
    log(
        f"{stage}: {calls} calls, Janus {j * 100:.1f} % of a core, rtpengine {r * 100:.1f} %, "
        f"ucs {u * 100:.1f} %, audio arriving at {heard:.1f} legs' worth"
    )
    return row


async def main(waiting: int, talking: int, relay: str) -> None:
    if shutil.which("janus") is None:
        print("janus is not installed (make media-engine)")
        return
    work = Path(tempfile.mkdtemp(prefix="ucs-bench-sip-media-"))
    port, sip = free_port(), free_udp_port()
    trunk = await Trunk((HOST, sip)).open()
    assert isinstance(trunk, Trunk)
    cmd = [sys.executable, "-m", "ucs.cli", "serve", "--demo", "--port", str(port)]
    cmd += ["--db", f"sqlite:///{work / 'ucs.db'}", "--switch", "sip", "--media", "janus"]
    cmd += ["--sip-port", str(sip), "--sip-trunk", f"{HOST}:{trunk.port}"]
    cmd += ["--media-relay", relay]
    with (work / "server.log").open("wb") as out:
        proc = await asyncio.create_subprocess_exec(*cmd, stdout=out, stderr=subprocess.STDOUT)
    phones: list[asyncio.Task[None]] = []
    try:
        async with asyncio.timeout(60):
            while _child(proc.pid, "janus") is None:  # noqa: ASYNC110 (a process to wait for)
                await asyncio.sleep(0.2)
        await asyncio.sleep(3.0)  # the engine's API up, the default sounds made
        rows = [await _measure(proc.pid, "idle", 0, trunk.rtps)]
        dialogs = [(await trunk.call("100"))[0] for _ in range(waiting)]
        rows.append(await _measure(proc.pid, "waiting", waiting, trunk.rtps))
        phone_rtps: list[RtpPeer] = []
        for i in range(1, min(talking, 4) + 1):
            phones.append(asyncio.create_task(_phone(f"phone{i}", (HOST, sip), phone_rtps)))
        await asyncio.sleep(1.0)  # registered
        for i in range(1, min(talking, 4) + 1):
            dialogs.append((await trunk.call(f"100{i}"))[0])
        rows.append(await _measure(proc.pid, "talking", len(dialogs), trunk.rtps + phone_rtps))
        talking_n = len(dialogs) - waiting
        engines = [row["janus"] + row["rtpengine"] for row in rows]
        per_waiting = (engines[1] - engines[0]) / max(waiting, 1)
        per_talking = (engines[2] - engines[1]) / max(talking_n, 1)
        log(
            f"Janus and rtpengine per call: {per_waiting:.2f} % of a core waiting (one leg and "
            f"the music), {per_talking:.2f} % talking (two legs); ucs: "
            f"{(rows[2]['ucs'] - rows[0]['ucs']) / max(len(dialogs), 1):.2f} % per call"
        )
        for d in dialogs:
            trunk.bye(d)
    finally:
        for task in phones:
            task.cancel()
        for rtp in trunk.rtps:
            rtp.close()
        trunk.close()
        proc.terminate()
        try:
            async with asyncio.timeout(10):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    waiting, talking = args + [10, 4][len(args) :]
    asyncio.run(main(waiting, talking, sys.argv[3] if len(sys.argv) > 3 else "auto"))
