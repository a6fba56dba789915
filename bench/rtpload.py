"""The media benchmark's callers (``bench/media.py``): plain RTP peers in a process of their own.

Each call is one UDP socket that sends a 440 Hz μ-law packet every 20 ms to where the engine
takes its RTP (as a SIP phone would) and counts what the engine sends back: packets, and the
longest silence between two of them (an audio gap). One loop serves every call, so that a
thousand calls cost this process 100,000 datagrams a second at most; its own CPU is reported,
because it shares the machine with what it measures.

The parent talks to ``rtp_worker`` over a pipe: ``("bind", n)`` → the n local ports;
``("send", index, "ip:port")`` → that call starts sending; ``("window",)`` → the figures since
the last window (and a new window begins); ``("stop",)`` ends it.
"""

from __future__ import annotations

import os
import selectors
import socket
import struct
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from ucs.media.g711 import tone

__all__ = ["FRAME", "rtp_worker"]

FRAME = 160
"""Samples (bytes of μ-law) a packet carries: 20 ms at 8 kHz."""
PERIOD = 0.02
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
"""Linux's receive time in nanoseconds (``SCM_TIMESTAMPNS`` has the same number); Python's
socket module does not name it."""


@dataclass
class _Call:
    sock: socket.socket
    remote: tuple[str, int] | None = None
    seq: int = 0
    ts: int = 0
    ssrc: int = field(default_factory=lambda: int.from_bytes(os.urandom(4), "big"))
    received: int = 0
    last: float | None = None
    gap: float = 0.0
    """The longest time between two packets from the engine in this window (seconds, by the
    kernel's times of arrival)."""


def rtp_worker(host: str, conn: Connection) -> None:
    calls: list[_Call] = []
    selector = selectors.DefaultSelector()
    clip = tone(440.0)
    pos = 0
    window = time.monotonic()
    late = 0.0
    """The worst lateness of this loop's sending in the window (its own stalls, not the
    engine's)."""
    next_tick = time.monotonic()
    while True:
        while conn.poll():
            msg = conn.recv()
            if msg[0] == "bind":
                ports = []
                for _ in range(int(msg[1])):
                    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 18)
                    # The kernel's time of arrival: a stall of this process is no audio gap.
                    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                    sock.bind((host, 0))
                    sock.setblocking(False)
                    selector.register(sock, selectors.EVENT_READ, len(calls))
                    calls.append(_Call(sock))
                    ports.append(sock.getsockname()[1])
                conn.send(ports)
            elif msg[0] == "send":
                ip, _, port = str(msg[2]).rpartition(":")
                calls[int(msg[1])].remote = (ip, int(port))
            elif msg[0] == "window":
                now = time.monotonic()
                conn.send(_figures(calls, now - window, late))
                window, late = now, 0.0
                for call in calls:
                    call.received, call.gap = 0, 0.0
            elif msg[0] == "stop":
                for call in calls:
                    call.sock.close()
                conn.send({"cpu_s": sum(os.times()[:2])})
                return
        now = time.monotonic()
        if now >= next_tick:
            late = max(late, now - next_tick)
            payload = clip[pos : pos + FRAME]
            pos = (pos + FRAME) % len(clip)
            for call in calls:
                if call.remote is None:
                    continue
                header = struct.pack("!BBHII", 0x80, 0, call.seq, call.ts, call.ssrc)
                try:
                    call.sock.sendto(header + payload, call.remote)
                except OSError:
                    pass  # a full buffer drops the packet, as a network would
                call.seq = (call.seq + 1) & 0xFFFF
                call.ts = (call.ts + FRAME) & 0xFFFFFFFF
            next_tick = max(next_tick + PERIOD, now - 1.0)
        for key, _ in selector.select(timeout=max(0.0, next_tick - time.monotonic())):
            call = calls[key.data]
            while True:
                try:
                    _, ancillary, _, _ = call.sock.recvmsg(2048, _ANCILLARY)
                except BlockingIOError:
                    break
                arrived = _arrival(ancillary)
                if call.last is not None:
                    call.gap = max(call.gap, arrived - call.last)
                call.last = arrived
                call.received += 1


_ANCILLARY = socket.CMSG_SPACE(16)


def _arrival(ancillary: list[tuple[int, int, bytes]]) -> float:
    """When the kernel received the datagram (``SCM_TIMESTAMPNS``), else now."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanoseconds = struct.unpack("qq", data[:16])
            return seconds + nanoseconds / 1e9
    return time.time()


def _figures(calls: list[_Call], seconds: float, late: float) -> dict[str, Any]:
    """What the calls received in a window of ``seconds``."""
    sending = [c for c in calls if c.remote is not None]
    return {
        "seconds": seconds,
        "received": [c.received for c in sending],
        "gaps_ms": [round(c.gap * 1000, 1) for c in sending],
        "sender_late_ms": round(late * 1000, 1),
        "cpu_s": sum(os.times()[:2]),
    }
