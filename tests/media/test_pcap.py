"""What a leg's phone said, from rtpengine's pcap files (``ucs.media.pcap``), and a recording
made of them (``ucs.media.recorder``) by a server that was killed before the call ended.

The files are written here as rtpengine writes them (``--recording-format=raw``: link type
101, each packet an IPv4 UDP datagram as it arrived, both sides of the leg), so the tests
need no engine."""

from __future__ import annotations

import ipaddress
import json
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.media.audio import SILENCE_DBFS, assert_tone, channels, level_dbfs, stretch
from ucs.media import g711, pcap
from ucs.media.recorder import Recorder
from ucs.storage.store import Store

pytestmark = pytest.mark.anyio

PHONE, ROOM = 40014, 40002
"""rtpengine's ports of a leg: the one its phone sends to, the one its room side takes."""


PHONE_AT = ("198.18.0.7", 5004)
"""Where the phone sends from (as its SDP says)."""


def _datagram(
    port: int, payload: bytes, ipv6: bool = False, source: tuple[str, int] = PHONE_AT
) -> bytes:
    udp = struct.pack(">HHHH", source[1], port, 8 + len(payload), 0) + payload
    if ipv6:
        return struct.pack(">IHBB", 6 << 28, len(udp), 17, 64) + bytes(32) + udp
    host = ipaddress.IPv4Address(source[0]).packed
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, host, bytes(4))
    return ip + udp


def _rtp(stamp: int, ssrc: int, payload: bytes, kind: int = 0, extra: bool = False) -> bytes:
    first = 0x80 | (0x30 if extra else 0)  # (extra: a header extension, and padding)
    header = struct.pack(">BBHII", first, kind, stamp // 160 % 65536, stamp % 2**32, ssrc)
    if not extra:
        return header + payload
    return header + struct.pack(">HH", 0xBEDE, 1) + bytes(4) + payload + bytes([0, 0, 3])


def write_pcap(path: Path, packets: list[tuple[float, bytes]], nanoseconds: bool = False) -> Path:
    """A pcap file of raw IP packets (``(time, datagram)``), as rtpengine writes them."""
    magic = 0xA1B23C4D if nanoseconds else 0xA1B2C3D4
    out = bytearray(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 65535, 101))
    for when, datagram in packets:
        whole = int(when)
        fraction = round((when - whole) * (1e9 if nanoseconds else 1e6))
        out += struct.pack("<IIII", whole, fraction, len(datagram), len(datagram)) + datagram
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))
    return path


def _tone(frequency: float, seconds: float) -> bytes:
    return g711.tone(frequency, seconds)


def talk(
    t0: float,
    seconds: float,
    frequency: float,
    port: int,
    ssrc: int,
    stamp: int = 0,
    *,
    source: tuple[str, int] = PHONE_AT,
    every: int = 160,
) -> list[tuple[float, bytes]]:
    """``seconds`` of a tone sent to ``port`` from ``t0`` (from ``source``), a packet every
    20 ms, each arriving up to 15 ms late (jitter), their timestamps ``every`` samples apart."""
    audio = _tone(frequency, seconds)
    packets = []
    for n in range(len(audio) // 160):
        late = (n * 7 % 16) / 1000
        payload = audio[n * 160 : (n + 1) * 160]
        rtp = _rtp(stamp + n * every, ssrc, payload)
        packets.append((t0 + n * 0.02 + late, _datagram(port, rtp, source=source)))
    return packets


def test_a_side_is_what_arrived_at_its_port_laid_by_timestamp(tmp_path: Path) -> None:
    t0 = 1_800_000_000.0
    packets = talk(t0, 1.0, 440, PHONE, 1) + talk(t0 + 0.005, 1.0, 1000, ROOM, 2)
    # A packet lost, then the stream starts again (a new SSRC) after a second of nothing.
    del packets[10]
    packets += talk(t0 + 2.0, 0.5, 440, PHONE, 3, stamp=123_456)
    packets.sort()
    path = write_pcap(tmp_path / "leg.pcap", packets)
    found = pcap.side(path, PHONE)
    assert found is not None
    codec, offset, audio = found
    assert codec == "ul" and offset == 0.0
    assert len(audio) == pytest.approx(2.5 * 8000, abs=160)
    assert audio[10 * 160 : 11 * 160] == bytes([0xFF]) * 160  # the lost packet: silence
    assert audio[1 * 8000 + 400 : 2 * 8000 - 400] == bytes([0xFF]) * (8000 - 800)
    first = _tone(440, 1.0)
    assert audio[:1600] == first[:1600]  # laid by timestamp: the jitter is gone
    assert audio[16_000:20_000] == _tone(440, 0.5)[:4000]  # where it arrived again
    other = pcap.side(path, ROOM)
    assert other is not None and other[2][:1600] == _tone(1000, 1.0)[:1600]
    assert pcap.side(path, 9) is None  # nothing came there
    assert pcap.first_time(path) == pytest.approx(t0)


def test_packets_out_of_order_keep_their_place_and_timestamps_cannot_stretch_a_side(
    tmp_path: Path,
) -> None:
    t0 = 1_800_000_000.0
    packets = talk(t0, 1.0, 440, PHONE, 1)
    packets[20], packets[21] = (packets[20][0], packets[21][1]), (packets[21][0], packets[20][1])
    found = pcap.side(write_pcap(tmp_path / "reordered.pcap", packets), PHONE)
    assert found is not None and found[2] == _tone(440, 1.0)  # every packet in its place
    # A caller whose timestamps run nearly a second ahead at each packet (each step short of
    # a jump) would make a second of packets into minutes of recording: the side is as long
    # as the packets took to come, give or take a jump.
    sped = talk(t0, 1.0, 440, PHONE, 1, every=160 + 7_900)
    found = pcap.side(write_pcap(tmp_path / "sped.pcap", sped), PHONE)
    assert found is not None and len(found[2]) < 1.0 * 8000 + pcap.JUMP + 160


def test_a_side_is_what_came_from_the_phone_not_what_others_sprayed_at_its_port(
    tmp_path: Path,
) -> None:
    t0 = 1_800_000_000.0
    stranger = ("203.0.113.66", 40000)
    phone = talk(t0, 1.0, 440, PHONE, 1)
    sprayed = talk(t0, 1.0, 1000, PHONE, 5, source=stranger)
    sprayed += talk(t0 + 0.01, 1.0, 1000, PHONE, 6, source=stranger)  # more than the phone's
    path = write_pcap(tmp_path / "leg.pcap", sorted(phone + sprayed))
    found = pcap.side(path, PHONE, PHONE_AT)
    assert found is not None and found[2] == _tone(440, 1.0)
    # A phone behind a NAT sends from elsewhere than its SDP says: where most packets came from
    nat = write_pcap(
        tmp_path / "nat.pcap", sorted(phone + talk(t0, 0.5, 1000, PHONE, 5, source=stranger))
    )
    found = pcap.side(nat, PHONE, ("10.0.0.9", 4000))
    assert found is not None and found[2] == _tone(440, 1.0)


def test_a_phone_whose_nat_moves_it_to_another_port_is_heard_throughout(
    tmp_path: Path,
) -> None:
    """Behind a NAT (its SDP's address never seen), the phone's stream is its own from
    whichever port it comes: 1 s from one, then 2 s from another, the same SSRC; a stranger's
    stream sprayed at the port meanwhile stays out."""
    t0 = 1_800_000_000.0
    before, after = ("203.0.113.9", 61000), ("203.0.113.9", 61044)
    moved = talk(t0, 1.0, 440, PHONE, 7, source=before)
    moved += talk(t0 + 1.0, 2.0, 440, PHONE, 7, stamp=8000, source=after)
    sprayed = talk(t0 + 0.5, 1.0, 1000, PHONE, 9, source=("198.51.100.1", 4000))
    path = write_pcap(tmp_path / "nat.pcap", sorted(moved + sprayed))
    found = pcap.side(path, PHONE, ("10.0.0.9", 4000))
    assert found is not None
    assert found[1] == 0.0 and found[2] == _tone(440, 1.0) + _tone(440, 2.0)
    assert pcap._address("2001:DB8:0:0::0001", 5004) == ("2001:db8::1", 5004)  # as _udp says


def test_a_file_cut_short_extensions_ipv6_a_law_and_nanoseconds_are_read(tmp_path: Path) -> None:
    t0 = 1_800_000_000.0
    audio = bytes(range(160))
    packets = [
        (t0 + n * 0.02, _datagram(PHONE, _rtp(n * 160, 7, audio, 8, extra=True), ipv6=True))
        for n in range(5)
    ]
    packets.insert(2, (t0 + 0.03, _datagram(PHONE, _rtp(0, 7, b"\x01\x02", 101))))  # a key
    path = write_pcap(tmp_path / "cut.pcap", packets, nanoseconds=True)
    path.write_bytes(path.read_bytes()[:-100])  # rtpengine killed as it wrote the last
    found = pcap.side(path, PHONE)
    assert found is not None
    codec, offset, got = found
    assert codec == "al" and offset == 0.0 and got == audio * 4
    assert pcap.side(write_pcap(tmp_path / "empty.pcap", []), PHONE) is None
    (tmp_path / "junk.pcap").write_bytes(b"not a pcap file at all")
    assert pcap.side(tmp_path / "junk.pcap", PHONE) is None
    assert pcap.first_time(tmp_path / "junk.pcap") is None


def test_the_child_process_writes_the_audio_and_what_sox_needs(tmp_path: Path) -> None:
    path = write_pcap(tmp_path / "leg.pcap", talk(1_800_000_000.0, 0.2, 440, PHONE, 1))
    out = tmp_path / "side.g711"
    for port, expected in ((PHONE, {"codec": "ul", "offset": 0.0}), (ROOM, {})):
        command = [sys.executable, "-I", pcap.__file__, str(path), str(port), str(out)]
        done = subprocess.run([*command, f"{PHONE_AT[0]}:{PHONE_AT[1]}"], check=False)
        assert done.returncode == 0
        assert json.loads((tmp_path / "side.g711.json").read_text()) == expected
    assert out.read_bytes() == _tone(440, 0.2)
    for wrong in (["x"], [str(path), str(PHONE), str(out), "nowhere"]):
        bad = subprocess.run([sys.executable, "-I", pcap.__file__, *wrong], capture_output=True)
        assert bad.returncode == 2 and b"usage" in bad.stderr


async def test_a_killed_servers_relayed_legs_are_recorded_at_the_next_start(
    tmp_path: Path,
) -> None:
    """The call's folder names two legs rtpengine recorded (the caller's twice: a pause
    between); the pcap files are still where rtpengine wrote them. The next start makes the
    WAV: the caller left, the agent right, the pause silent, and removes every file."""
    store = Store(f"sqlite:///{tmp_path / 'ucs.db'}")
    store.migrate()
    recorder = Recorder(tmp_path / "recordings", lambda: store.engine)
    uid = "1700000000.9"
    t0 = time.time() - 60
    folder = recorder.parts / uid
    folder.mkdir(parents=True)
    about = {"uniqueid": uid, "agent_id": 1, "agent": "agent1", "queue_id": 1, "start": t0}
    (folder / "call.json").write_text(json.dumps(about))
    pcaps = recorder.relay_folder / "pcaps"
    for callid, party in ((f"{uid}~far~1", "far"), (f"{uid}~agent~2", "agent")):
        (folder / f"rtpengine-{callid}.json").write_text(
            json.dumps({"party": party, "port": PHONE, "source": list(PHONE_AT)})
        )
    far, agent = f"{uid}~far~1", f"{uid}~agent~2"
    write_pcap(pcaps / f"{far}-aa.pcap", talk(t0, 1.5, 440, PHONE, 1) + talk(t0, 1.5, 1, ROOM, 9))
    write_pcap(pcaps / f"{far}-bb.pcap", talk(t0 + 3.0, 1.5, 440, PHONE, 1, stamp=24_000))
    write_pcap(pcaps / f"{agent}-cc.pcap", talk(t0 + 0.01, 4.5, 1000, PHONE, 2))
    (recorder.relay_folder / "metadata").mkdir()
    (recorder.relay_folder / "metadata" / f"rtpengine-meta-{far}-aa.txt").write_text("x")
    (recorder.relay_folder / "tmp").mkdir()  # (a stretch still recorded when it was killed)
    (recorder.relay_folder / "tmp" / f"rtpengine-meta-{agent}-cc.txt").write_text("x")
    (pcaps / "1700000000.10~far~3-dd.pcap").write_bytes(b"")  # another call's: kept

    assert recorder.recover() == [uid]
    await recorder.made(uid)
    left, right, rate = channels(recorder.file(uid).read_bytes())
    assert 4.3 < len(left) / rate < 4.7
    assert_tone(stretch(left, rate, 0.2, 1.1), rate, 440)
    assert level_dbfs(stretch(left, rate, 1.7, 1.1)) < SILENCE_DBFS  # paused
    assert_tone(stretch(left, rate, 3.2, 1.1), rate, 440)
    assert_tone(stretch(right, rate, 0.2, 4.0), rate, 1000)
    assert not folder.exists()
    left_over = sorted(f.name for f in recorder.relay_folder.rglob("*") if f.is_file())
    assert left_over == ["1700000000.10~far~3-dd.pcap"]
