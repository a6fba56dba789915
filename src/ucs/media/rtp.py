"""A small RTP peer: the simulator's caller who speaks and listens (CONTRACT §10).

It sends a looped μ-law clip (a tone, a sentence) every 20 ms to the engine and keeps the last
``keep`` seconds of what the engine sent back, for ``GET /api/sim/calls/{uniqueid}/heard``. It
presses keys as a phone does, as RFC 4733 telephone-events in its stream (``press``).
The simulator is a test instrument: this handles packets in Python, which real calls never do.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct

from ucs.core.events import KEYS
from ucs.media.g711 import SAMPLE_RATE, decode, wav

__all__ = ["RtpPeer", "local_address_towards"]

_FRAME = SAMPLE_RATE // 50  # 20 ms of μ-law
_SILENCE = b"\xff" * _FRAME
_END_REPEATS = 3
"""A key's last event packet is sent three times (RFC 4733 2.5.1.4)."""


def local_address_towards(host: str) -> str:
    """The address of this machine that packets to ``host`` leave from (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host, 9))
        address: str = s.getsockname()[0]
        return address


class RtpPeer(asyncio.DatagramProtocol):
    def __init__(self, clip: bytes, keep: float = 120.0) -> None:
        self.clip = clip or _SILENCE
        self.keep = int(keep * SAMPLE_RATE)
        self.heard = bytearray()
        self.remote: tuple[str, int] | None = None
        self.transport: asyncio.DatagramTransport | None = None
        self._ssrc = random.getrandbits(32)
        self._seq = random.getrandbits(16)
        self._ts = random.getrandbits(32)
        self._pos = 0
        self._timer: asyncio.TimerHandle | None = None
        self._next = 0.0
        self._events: list[tuple[int, int, int, bool]] = []
        """RFC 4733 packets to send instead of the next frames: (payload type, event,
        duration so far in samples, end)."""
        self._event_ts = 0

    @classmethod
    async def bind(cls, host: str, clip: bytes) -> RtpPeer:
        loop = asyncio.get_running_loop()
        _, peer = await loop.create_datagram_endpoint(lambda: cls(clip), local_addr=(host, 0))
        return peer

    @property
    def address(self) -> tuple[str, int]:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's

    def start(self, remote: tuple[str, int]) -> None:
        """Speak to ``remote`` from now on, one packet every 20 ms."""
        self.remote = remote
        loop = asyncio.get_running_loop()
        self._next = loop.time()
        self._send()

    def _send(self) -> None:
        if self.transport is None or self.transport.is_closing() or self.remote is None:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        # Catch up after a stall, but never send more than a second in one go.
        self._next = max(self._next, now - 1.0)
        while self._next <= now:
            if self._events:
                self._send_event()
            else:
                payload = self._take()
                header = struct.pack("!BBHII", 0x80, 0, self._seq, self._ts, self._ssrc)
                self.transport.sendto(header + payload, self.remote)
            self._seq = (self._seq + 1) & 0xFFFF
            self._ts = (self._ts + _FRAME) & 0xFFFFFFFF
            self._next += 0.02
        self._timer = loop.call_at(self._next, self._send)

    def press(self, key: str, seconds: float = 0.1, payload_type: int = 101) -> None:
        """Press ``key`` for ``seconds`` as RFC 4733 events of ``payload_type`` (what the
        peer's SDP offered as ``telephone-event``), in place of the audio meanwhile. Keys
        pressed one after another are sent one after another. ``ValueError`` for a key a
        phone does not have."""
        if len(key) != 1 or key not in KEYS:
            raise ValueError(f"a phone has no key {key!r}")
        event, frames = KEYS.index(key), max(2, round(seconds / 0.02))
        packets = [(payload_type, event, (i + 1) * _FRAME, False) for i in range(frames - 1)]
        packets += [(payload_type, event, frames * _FRAME, True)] * _END_REPEATS
        self._events += packets

    def _send_event(self) -> None:
        assert self.transport is not None and self.remote is not None
        payload_type, event, duration, end = self._events.pop(0)
        marker = 0
        if duration == _FRAME:  # an event's first packet: marked, and its timestamp is the
            marker, self._event_ts = 0x80, self._ts  # one all of the event's packets carry
        header = struct.pack(
            "!BBHII", 0x80, marker | payload_type, self._seq, self._event_ts, self._ssrc
        )
        body = struct.pack("!BBH", event, (0x80 if end else 0) | 10, duration)
        self.transport.sendto(header + body, self.remote)

    def _take(self) -> bytes:
        clip, pos = self.clip, self._pos
        if pos + _FRAME <= len(clip):
            chunk = clip[pos : pos + _FRAME]
        else:
            chunk = (clip[pos:] + clip * (_FRAME // len(clip) + 1))[:_FRAME]
        self._pos = (pos + _FRAME) % len(clip)
        return chunk

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        if len(data) < 12 or data[0] >> 6 != 2 or data[1] & 0x7F != 0:
            return  # not RTP, or not PCMU (RTCP, comfort noise)
        start = 12 + 4 * (data[0] & 0x0F)
        if data[0] & 0x10 and len(data) >= start + 4:
            start += 4 + 4 * struct.unpack_from("!H", data, start + 2)[0]
        self.heard += data[start:]
        if len(self.heard) > self.keep + SAMPLE_RATE:
            del self.heard[: len(self.heard) - self.keep]

    def heard_wav(self) -> bytes:
        """What this caller heard so far (the last ``keep`` seconds), as a mono 16-bit WAV."""
        return wav(decode(bytes(self.heard[-self.keep :])))

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self.transport is not None:
            self.transport.close()
