"""rtpengine in front of the engine (``ucs.media.relay``), on loopback, with a UDP socket of the
test's own as the room: the ng protocol's encoding, keys pressed as RFC 4733 events reported as
keys (and passed on as they came: the engine drops them), a party joined again on new ports with
the old ones deaf, a call's legs deleted at its end, and rtpengine killed: its calls lost, it
restarted."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.media.audio import assert_tone
from tests.media.helpers import core_file_limit
from tests.media.sip import samples_of
from ucs.media.base import MediaError
from ucs.media.g711 import tone
from ucs.media.relay import Relay, RelayConfig, bdecode, bencode, relay_installed
from ucs.media.rtp import RtpPeer

pytestmark = pytest.mark.anyio

_values = st.recursive(
    st.integers(-(2**62), 2**62) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_values)
def test_bencode_round_trips(value: Any) -> None:
    assert bdecode(bencode(value)) == value


@given(st.binary(max_size=64))
def test_bdecode_refuses_what_is_not_one_value_with_a_value_error(data: bytes) -> None:
    try:
        bdecode(data)
    except ValueError:
        pass


def test_bencode_refuses_what_it_cannot_say() -> None:
    for bad in (True, 1.5, None):
        with pytest.raises(TypeError):
            bencode(bad)
    with pytest.raises(ValueError, match="after the value"):
        bdecode(b"i1ei2e")


class _Room(asyncio.DatagramProtocol):
    """Where the room would take a leg's audio: counts what comes, by payload type."""

    def __init__(self) -> None:
        self.types: dict[int, int] = {}
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        kind = data[1] & 0x7F
        self.types[kind] = self.types.get(kind, 0) + 1

    @property
    def address(self) -> tuple[str, int]:
        assert self.transport is not None
        return tuple(self.transport.get_extra_info("sockname")[:2])  # type: ignore[return-value]


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[tuple[Relay, list[Any], list[Any]]]:
    if not relay_installed():
        pytest.skip("rtpengine is not installed (make media-engine)")
    keys: list[tuple[str, str, str]] = []
    lost: list[list[str]] = []
    r = Relay(
        RelayConfig("127.0.0.1", tmp_path, ports=(45000, 45999)),
        lambda uid, party, key: keys.append((uid, party, key)),
        lost.append,
    )
    r.start()
    try:
        async with asyncio.timeout(20):
            while not r.available:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        yield r, keys, lost
    finally:
        await r.stop()


async def _room() -> _Room:
    _, room = await asyncio.get_running_loop().create_datagram_endpoint(
        _Room, local_addr=("127.0.0.1", 0)
    )
    return room


async def _wait_for(check: Any, seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_keys_are_reported_and_a_party_joined_again_leaves_its_old_ports(
    relay: tuple[Relay, list[Any], list[Any]],
) -> None:
    r, keys, _ = relay
    phone = await RtpPeer.bind("127.0.0.1", tone(440))
    room = await _room()
    given_room: list[tuple[str, int]] = []

    async def join(at: tuple[str, int]) -> tuple[str, int]:
        given_room.append(at)
        return room.address

    try:
        at = await r.anchor("c1", "far", phone.address, 0, 101, join)
        assert at[0] == "127.0.0.1" and given_room[0][0] == "127.0.0.1" and at != given_room[0]
        phone.start(at)
        await _wait_for(lambda: room.types.get(0, 0) > 10)
        phone.press("1")
        phone.press("#")
        await _wait_for(lambda: len(keys) == 2)
        assert keys == [("c1", "far", "1"), ("c1", "far", "#")]
        assert room.types.get(101, 0) == 0  # read, and not passed on (Janus drops them)

        # Joined again (a phone at a new address): new ports; the old ones forward nothing.
        moved = await RtpPeer.bind("127.0.0.1", tone(440))
        again = await r.anchor("c1", "far", moved.address, 0, 101, join)
        assert again != at
        moved.start(again)
        await asyncio.sleep(0.3)
        before = room.types.get(0, 0)
        moved.close()
        await asyncio.sleep(0.5)  # only the old phone sends now, to the old ports
        assert room.types.get(0, 0) - before <= 2
        phone.press("5")  # to the old leg: not reported
        await asyncio.sleep(0.5)
        assert len(keys) == 2

        # The call ends: its legs are deleted, so its ports forward nothing; a leg being set
        # up meanwhile (the room answered after the end) is deleted too.
        await r.drop("c1")
        assert r.legs.calls == {}
        with pytest.raises(MediaError, match="ended"):
            await r.anchor("c1", "agent", moved.address, 0, 101, join)
        assert r.legs.calls == {}
        with pytest.raises(MediaError):
            await r._control.command("query", **{"call-id": "c1~far~2"})  # type: ignore[union-attr]
    finally:
        phone.close()
        assert room.transport is not None
        room.transport.close()


async def test_legs_pointed_at_each_other_forward_a_call_and_the_old_room_is_not_heard(
    relay: tuple[Relay, list[Any], list[Any]],
) -> None:
    """Two legs of a call (the far party 440 Hz, the agent's phone 1 kHz, each joined to a
    room of its own): pointed at each other (``repoint``), each phone hears the other's
    audio through the ports it already sends to, and the rooms get nothing more, though they
    keep sending; legs whose formats differ do not ``agree``."""
    r, _, _ = relay
    far = await RtpPeer.bind("127.0.0.1", tone(440))
    phone = await RtpPeer.bind("127.0.0.1", tone(1000))
    rooms = {"far": await _room(), "agent": await _room()}
    room_side: dict[str, tuple[str, int]] = {}

    def join(party: str) -> Any:
        async def joined(at: tuple[str, int]) -> tuple[str, int]:
            room_side[party] = at
            return rooms[party].address

        return joined

    try:
        far_at = await r.anchor("c4", "far", far.address, 0, 101, join("far"))
        phone_at = await r.anchor("c4", "agent", phone.address, 0, 101, join("agent"))
        assert r.agree("c4", "far", "agent")
        far.start(far_at)
        phone.start(phone_at)
        await _wait_for(lambda: min(room.types.get(0, 0) for room in rooms.values()) > 5)

        await r.repoint("c4", "far", room_side["agent"])
        await r.repoint("c4", "agent", room_side["far"])
        before = {party: room.types.get(0, 0) for party, room in rooms.items()}
        heard = (len(far.heard), len(phone.heard))
        for _ in range(25):  # the rooms keep sending to the legs: not heard any more
            for party, room in rooms.items():
                assert room.transport is not None
                room.transport.sendto(b"\x80\x00" + bytes(170), room_side[party])
            await asyncio.sleep(0.02)
        assert all(rooms[p].types.get(0, 0) - before[p] <= 2 for p in rooms)
        assert_tone(samples_of(far.heard[heard[0] :]), 8000, 1000)
        assert_tone(samples_of(phone.heard[heard[1] :]), 8000, 440)

        other = await RtpPeer.bind("127.0.0.1", tone(440))
        await r.anchor("c5", "far", other.address, 8, 101, join("far"))  # A-law
        await r.anchor("c5", "agent", phone.address, 0, 101, join("agent"))
        assert not r.agree("c5", "far", "agent")
        await r.anchor("c6", "far", other.address, 0, None, join("far"))  # no events
        await r.anchor("c6", "agent", phone.address, 0, 101, join("agent"))
        assert not r.agree("c6", "far", "agent") and not r.agree("c7", "far", "agent")
        other.close()
        with pytest.raises(MediaError, match="not relayed"):
            await r.repoint("c7", "far", room_side["far"])
    finally:
        far.close()
        phone.close()
        for room in rooms.values():
            assert room.transport is not None
            room.transport.close()


async def test_rtpengine_killed_loses_its_calls_and_is_started_again(
    relay: tuple[Relay, list[Any], list[Any]],
) -> None:
    r, keys, lost = relay
    phone = await RtpPeer.bind("127.0.0.1", tone(440))
    room = await _room()

    async def join(at: tuple[str, int]) -> tuple[str, int]:
        return room.address

    try:
        await r.anchor("c2", "agent", phone.address, 8, 96, join)
        first = r.pid
        assert first is not None
        assert core_file_limit(first) == ("0", "0")
        os.kill(first, signal.SIGKILL)
        await _wait_for(lambda: lost == [["c2"]], 10)
        await _wait_for(lambda: r.available and r.pid not in (None, first), 20)
        assert r.restarts == 1 and r.legs.calls == {}
        at = await r.anchor("c3", "far", phone.address, 0, 101, join)  # works again
        phone.start(at)
        phone.press("9")
        await _wait_for(lambda: keys == [("c3", "far", "9")])
    finally:
        phone.close()
        assert room.transport is not None
        room.transport.close()


def test_a_refused_command_is_a_media_error(tmp_path: Path) -> None:
    """Nobody listening: the command fails at once with ``MediaError``, never hangs."""

    async def main() -> None:
        from ucs.media.relay import _Control

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        _, control = await asyncio.get_running_loop().create_datagram_endpoint(
            _Control, remote_addr=("127.0.0.1", port)
        )
        with pytest.raises(MediaError):
            async with asyncio.timeout(3):
                await control.command("ping")
        assert control.transport is not None
        control.transport.close()

    asyncio.run(main())


async def test_two_servers_on_one_machine_each_have_their_rtpengine(
    relay: tuple[Relay, list[Any], list[Any]], tmp_path: Path
) -> None:
    """As with ``--workers``: a second rtpengine on the same address and ports starts (it
    reads no system configuration with fixed control ports) and relays beside the first."""
    first, _, _ = relay
    second = Relay(RelayConfig("127.0.0.1", tmp_path / "two", ports=(45000, 45999)), print, print)
    second.start()
    room = await _room()

    async def join(at: tuple[str, int]) -> tuple[str, int]:
        return room.address

    try:
        async with asyncio.timeout(20):
            while not second.available:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        for i in range(5):
            a = await first.anchor(f"a{i}", "far", ("127.0.0.1", 20000 + i), 0, 101, join)
            b = await second.anchor(f"b{i}", "far", ("127.0.0.1", 21000 + i), 0, 101, join)
            assert a != b
        assert first.restarts == second.restarts == 0
    finally:
        await second.stop()
        assert room.transport is not None
        room.transport.close()
