"""What one side of a leg said, from the packets rtpengine recorded (``--recording-method=pcap``).

rtpengine writes every packet a leg receives, both sides, as it came (before it blocks or drops
any), into a pcap file a leg and recorded stretch. What the leg's phone said is what arrived at
the port the phone sends to (``Relay.leg``) from the phone: from the address its SDP names
when anything came from there, else (a phone behind a NAT) from the address most packets came
from, so that packets sprayed at the port by anyone else are not in the recording. The G.711
payloads of those packets, laid on a timeline by their RTP timestamps (a stream's packets keep
their spacing whatever the jitter of their arrival; a new stream, or one whose timestamps
stray from its arrivals, starts again where it arrived), are the side's audio, silence where
nothing came: a side is never longer than the time its packets took to come, whatever their
timestamps say.

Run as a child process of its own (``python -I pcap.py FILE PORT OUT [HOST:PORT]``, the last
the phone's address; standard library only), so the server's event loop never handles audio
packet by packet: it writes the raw G.711 to
``OUT`` and what sox needs to ``OUT.json``, ``{"codec": "ul"|"al", "offset": seconds}`` (how
long after the file's first packet the audio begins), or ``{}`` when no audio came to ``PORT``.
A file cut short (rtpengine killed as it wrote) is read up to its last whole packet.
"""

from __future__ import annotations

import ipaddress
import json
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CODECS", "JUMP", "RATE", "first_time", "main", "side"]

RATE = 8000
CODECS = {0: ("ul", 0xFF), 8: ("al", 0xD5)}
"""G.711's payload types: sox's name for the format and its byte of silence."""
JUMP = RATE
"""Samples a stream's timestamps may stray from its arrival times (counted from its first
packet's) before the stream starts again where its packet arrived."""
_MAGIC = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
_LINK_OFFSET = {101: 0, 228: 0, 1: 14, 113: 16}
"""Where the IP header begins for each link type: raw IP (101, 228), Ethernet, Linux cooked."""


def first_time(path: Path) -> float | None:
    """When the file's first packet was written (seconds, Unix time); None: it has none."""
    for when, _ in _records(path):
        return when
    return None


def _records(path: Path) -> Iterator[tuple[float, bytes]]:
    """Each packet's time and its IP datagram (up to the last whole one)."""
    with path.open("rb") as f:
        head = f.read(24)
        if len(head) < 24 or head[:4] not in _MAGIC:
            return
        order, unit = _MAGIC[head[:4]]
        (link,) = struct.unpack(order + "I", head[20:24])
        skip = _LINK_OFFSET.get(link & 0xFFFF)
        if skip is None:
            return
        record = struct.Struct(order + "IIII")
        while True:
            header = f.read(16)
            if len(header) < 16:
                return
            seconds, fraction, size, _ = record.unpack(header)
            data = f.read(size)
            if len(data) < size:
                return
            yield seconds + fraction * unit, data[skip:]


def _udp(datagram: bytes) -> tuple[tuple[str, int], int, bytes] | None:
    """An IPv4 or IPv6 UDP datagram's source address, destination port and payload."""
    if len(datagram) < 1:
        return None
    version = datagram[0] >> 4
    if version == 4:
        start = (datagram[0] & 0x0F) * 4
        if start < 20 or len(datagram) < start + 8 or datagram[9] != 17:
            return None
        host = str(ipaddress.IPv4Address(datagram[12:16]))
    elif version == 6:
        start = 40
        if len(datagram) < start + 8 or datagram[6] != 17:
            return None
        host = str(ipaddress.IPv6Address(datagram[8:24]))
    else:
        return None
    source, port = struct.unpack_from(">HH", datagram, start)
    return (host, source), port, datagram[start + 8 :]


def _rtp(packet: bytes) -> tuple[int, int, int, bytes] | None:
    """An RTP packet's payload type, timestamp, SSRC and payload (G.711 only)."""
    if len(packet) < 12 or packet[0] >> 6 != 2:
        return None
    kind = packet[1] & 0x7F
    if kind not in CODECS:
        return None
    start = 12 + 4 * (packet[0] & 0x0F)
    if packet[0] & 0x10:  # a header extension
        if len(packet) < start + 4:
            return None
        (words,) = struct.unpack_from(">H", packet, start + 2)
        start += 4 + 4 * words
    end = len(packet)
    if packet[0] & 0x20 and end > start:  # padding
        end -= packet[-1]
    if end <= start:
        return None
    stamp, ssrc = struct.unpack_from(">II", packet, 4)
    return kind, stamp, ssrc, packet[start:end]


@dataclass
class _Stream:
    """Packets of one stream whose timestamps keep pace with their arrival."""

    ssrc: int
    first_stamp: int
    first_at: float
    """When its first packet arrived, in samples after the file's first packet."""
    packets: list[tuple[int, bytes]] = field(default_factory=list)
    """Each packet's samples after the stream's first and its payload."""
    base: float = float("inf")
    """The stream's first sample, in samples after the file's first packet: the earliest its
    packets' arrivals allow (a late packet is late, never early)."""


_Packet = tuple[float, tuple[int, int, int, bytes]]
"""A packet's time (samples after the file's first packet) and ``_rtp``'s fields."""


def _packets(path: Path, port: int, phone: tuple[str, int] | None) -> list[_Packet]:
    """The RTP packets the phone sent to ``port``, in the order they came. The phone is at
    ``phone`` if anything came from there, else where most packets came from; and its streams
    (their SSRCs) are its wherever they come from, so a phone whose NAT gives it another port
    mid-call is heard throughout, while packets of other streams sprayed at the port are not."""
    t0: float | None = None
    came: list[tuple[tuple[str, int], _Packet]] = []
    counts: dict[tuple[str, int], int] = {}
    for when, datagram in _records(path):
        if t0 is None:
            t0 = when
        udp = _udp(datagram)
        if udp is None or udp[1] != port:
            continue
        rtp = _rtp(udp[2])
        if rtp is not None:
            came.append((udp[0], ((when - t0) * RATE, rtp)))
            counts[udp[0]] = counts.get(udp[0], 0) + 1
    if not counts:
        return []
    main = phone if phone in counts else max(counts, key=lambda source: counts[source])
    streams = {packet[1][2] for source, packet in came if source == main}
    return [packet for source, packet in came if source == main or packet[1][2] in streams]


def _address(host: str, port: int) -> tuple[str, int]:
    """An address as ``_udp`` spells it (an IPv6 address compressed, in lower case)."""
    try:
        return str(ipaddress.ip_address(host)), port
    except ValueError:
        return host, port


def side(
    path: Path, port: int, phone: tuple[str, int] | None = None
) -> tuple[str, float, bytes] | None:
    """What the phone (at ``phone`` when known) sent to ``port``: the codec (sox's name), how
    long after the file's first packet it begins (seconds) and the G.711 audio, silence where
    nothing came."""
    kind: int | None = None
    streams: list[_Stream] = []
    current: _Stream | None = None
    known = _address(*phone) if phone is not None else None
    for at, (payload_type, stamp, ssrc, payload) in _packets(path, port, known):
        kind = payload_type if kind is None else kind
        if payload_type != kind:
            continue
        if current is not None and current.ssrc == ssrc:
            offset = (stamp - current.first_stamp) % 2**32
            if offset >= 2**31 or abs(offset - (at - current.first_at)) > JUMP:
                current = None  # it strayed (or went back): a stream again from here
        else:
            current = None
        if current is None:
            current = _Stream(ssrc, stamp, at)
            streams.append(current)
        offset = (stamp - current.first_stamp) % 2**32
        current.packets.append((offset, payload))
        current.base = min(current.base, at - offset)
    if kind is None or not streams:
        return None
    codec, silence = CODECS[kind]
    begin = max(0, round(min(s.base for s in streams)))
    audio = bytearray()
    for stream in streams:
        start = max(0, round(stream.base)) - begin
        for offset, payload in stream.packets:
            at = start + offset
            if len(audio) < at + len(payload):
                audio.extend(bytes([silence]) * (at + len(payload) - len(audio)))
            audio[at : at + len(payload)] = payload
    return codec, begin / RATE, bytes(audio)


def main(argv: list[str]) -> int:
    phone: tuple[str, int] | None = None
    if len(argv) == 4:
        host, _, number = argv[3].rpartition(":")
        phone = (host.strip("[]"), int(number)) if number.isdigit() else None
    if len(argv) not in (3, 4) or not argv[1].isdigit() or (len(argv) == 4 and phone is None):
        print("usage: pcap.py FILE PORT OUT [HOST:PORT]", file=sys.stderr)
        return 2
    found, out = side(Path(argv[0]), int(argv[1]), phone), Path(argv[2])
    about: dict[str, object] = {}
    if found is not None:
        codec, offset, audio = found
        out.write_bytes(audio)
        about = {"codec": codec, "offset": round(offset, 4)}
    out.with_name(out.name + ".json").write_text(json.dumps(about), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
