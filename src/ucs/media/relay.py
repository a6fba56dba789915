"""rtpengine in front of the media engine for SIP legs, so that their keys reach the core.

Janus's AudioBridge drops RFC 4733 telephone-events (docs/media.md, *Keys and RFC 4733*), and
most trunks and desk phones send their keys only that way: a caller waiting in a queue could
not press 1 for a callback. So a SIP leg whose SDP offers ``telephone-event`` is relayed by
rtpengine (Debian's ``rtpengine-daemon``, run in user space, ``--table=-1``), a child process of
``ucs serve`` like Janus: the phone sends its audio and its keys to rtpengine, which passes
both on to the leg's participant in the call's room (Janus drops the keys, as before) and
reports each key as JSON to a UDP socket of ours (``--dtmf-log-dest``). Both sides of the leg
are described to rtpengine with the phone's ``telephone-event``, so that it forwards every
packet as it came (its passthrough: 0.2 % of a core a leg, where taking the events out, its
``consume``, decodes and encodes every packet: 0.5 %; bench/relay.py). The phone is answered
with rtpengine's address and ``telephone-event``, so it sends RFC 4733 rather than falling
back to in-band tones.

With ``--media-relay auto`` (the default) every SIP leg is relayed, keys or not, and a call
whose two legs need no mixing is forwarded leg to leg (``repoint``: each leg's room side
pointed at the other's; ``ucs.media.forwarding``). Keys are read and reported, never passed on
(``block DTMF``): a room drops them anyway.

Each leg is one rtpengine call (call-id ``<uniqueid>~<party>~<n>``): its ``offer`` is the
phone's description, its ``answer`` the room's. A party joined again (a phone that moves to a
new address, another agent's phone after a transfer) is a new rtpengine call on new ports, and
the old one is deleted: a phone that left cannot go on being heard through its old ports, and
``strict-source`` drops what does not come from the address a leg's phone sends from.

rtpengine is controlled by its "ng" protocol (bencode over UDP on loopback; ``ping`` every few
seconds is its health check) and restarted when it dies or stops answering; the calls it relayed
then end, as when Janus fails. Without it (not installed, down) a leg joins the room directly,
as before, and its keys come by SIP INFO only.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shutil
import socket
import subprocess
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from ucs.core.events import KEYS
from ucs.media.base import MediaError, engine_command, no_core_files, stop_process
from ucs.media.rtp import local_address_towards
from ucs.media.sdp import audio_of, engine_sdp

__all__ = ["Leg", "Relay", "RelayConfig", "bdecode", "bencode", "relay_installed"]

log = logging.getLogger("ucs.media")

PING_EVERY = 3.0
"""Seconds between health checks."""
ANSWER_WITHIN = 2.0
"""Seconds rtpengine has to answer a command (it answers in well under a millisecond)."""
START_TIMEOUT = 10.0
BLOCKS = 5
"""The relay's port range is shared by up to this many servers on one address (``--workers``),
a block each (``Relay._claim``)."""
ENDED_KEPT = 1000
"""Ended calls remembered, so that a leg set up as its call ends is deleted too."""


def relay_installed(binary: str = "rtpengine") -> bool:
    return shutil.which(binary) is not None


# --- bencode (the ng protocol's encoding) -------------------------------------------------


def bencode(value: Any) -> bytes:
    """``value`` (str, bytes, int, list, dict with str keys) in bencode."""
    if isinstance(value, bool):
        raise TypeError("bencode has no booleans")
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list | tuple):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(f"bencode cannot encode {type(value).__name__}")


def bdecode(data: bytes) -> Any:
    """A bencoded value; strings come back as ``str`` (UTF-8, bad bytes replaced).
    ``ValueError`` when ``data`` is not exactly one bencoded value."""
    try:
        value, end = _decode(data, 0)
    except (IndexError, ValueError) as err:
        raise ValueError(f"not bencode: {err}") from None
    if end != len(data):
        raise ValueError("not bencode: bytes after the value")
    return value


def _decode(data: bytes, i: int) -> tuple[Any, int]:
    head = data[i : i + 1]
    if head == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1 : end]), end + 1
    if head == b"l":
        i, items = i + 1, []
        while data[i : i + 1] != b"e":
            item, i = _decode(data, i)
            items.append(item)
        return items, i + 1
    if head == b"d":
        i, table = i + 1, {}
        while data[i : i + 1] != b"e":
            key, i = _decode(data, i)
            table[str(key)], i = _decode(data, i)
        return table, i + 1
    if not head.isdigit():
        raise ValueError(f"unexpected {head!r} at {i}")
    colon = data.index(b":", i)
    size = int(data[i:colon])
    end = colon + 1 + size
    if end > len(data):
        raise ValueError("a string runs past the end")
    return data[colon + 1 : end].decode("utf-8", "replace"), end


# --- the process and its control ------------------------------------------------------------


@dataclass(frozen=True)
class RelayConfig:
    ip: str
    """The address rtpengine relays on: phones send there, and the room's participants too."""
    runtime_dir: Path
    ports: tuple[int, int] = (40000, 59999)
    """A fifth of them a server (``BLOCKS``): 4,000 ports, 1,000 legs (a leg takes an RTP and
    an RTCP port on each side)."""
    binary: str = "rtpengine"
    prefix: tuple[str, ...] = ()
    """A command it is started under, as Janus (``ip netns exec NAME`` in the tests). In
    another network namespace loopback is not ours: its control then listens on ``ip``, and
    its reports come to our address towards ``ip``."""
    recordings: Path | None = None
    """Where rtpengine writes what the legs it is asked to record receive (``pcaps/``, one
    file a leg and stretch: ``<call-id>-<random>.pcap``; ``Relay.record``); None: it records
    nothing."""

    @property
    def control_ip(self) -> str:
        return self.ip if self.prefix else "127.0.0.1"

    @property
    def report_ip(self) -> str:
        return local_address_towards(self.ip) if self.prefix else "127.0.0.1"

    @property
    def log(self) -> Path:
        return self.runtime_dir / "rtpengine.log"

    def command(self, control: int, keys: int, ports: tuple[int, int]) -> list[str]:
        recording = (
            [
                f"--recording-dir={self.recordings}",
                "--recording-method=pcap",
                "--recording-format=raw",
            ]
            if self.recordings is not None
            else []
        )
        return [
            *engine_command(),
            *self.prefix,
            self.binary,
            "--config-file=none",  # not Debian's /etc/rtpengine: its fixed ports, its recording
            "--table=-1",
            "--foreground",
            "--log-stderr",
            "--log-level=5",
            f"--interface={self.ip}",
            f"--listen-ng={self.control_ip}:{control}",
            f"--dtmf-log-dest={self.report_ip}:{keys}",
            f"--port-min={ports[0]}",
            f"--port-max={ports[1]}",
            "--delete-delay=0",
            # A leg is deleted when its call ends; a held phone may send nothing for long.
            "--timeout=86400",
            "--silent-timeout=86400",
            "--offer-timeout=86400",
            "--num-threads=2",
            "--no-log-timestamps",
            *recording,
        ]


class _Control(asyncio.DatagramProtocol):
    """The ng protocol's client: each command has a cookie, its answer the same."""

    def __init__(self) -> None:
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.transport: asyncio.DatagramTransport | None = None
        self._cookies = itertools.count(1)
        self._prefix = f"{os.getpid()}-{time.monotonic_ns() % 1_000_000}-"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        cookie, _, body = data.partition(b" ")
        future = self.pending.pop(cookie.decode(errors="replace"), None)
        if future is None or future.done():
            return
        try:
            answer = bdecode(body)
        except ValueError as err:
            future.set_exception(MediaError(f"rtpengine answered something else: {err}"))
            return
        if not isinstance(answer, dict):
            future.set_exception(MediaError("rtpengine answered something else"))
            return
        future.set_result(answer)

    def error_received(self, exc: Exception) -> None:
        """Nobody listens at rtpengine's port (yet, or any more): every command waiting fails."""
        pending, self.pending = self.pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(MediaError(f"rtpengine is not listening: {exc}"))

    async def command(self, name: str, **arguments: Any) -> dict[str, Any]:
        if self.transport is None or self.transport.is_closing():
            raise MediaError("rtpengine is not running")
        cookie = self._prefix + str(next(self._cookies))
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[cookie] = future
        self.transport.sendto(cookie.encode() + b" " + bencode({"command": name, **arguments}))
        try:
            async with asyncio.timeout(ANSWER_WITHIN):
                answer = await future
        except TimeoutError:
            raise MediaError(f"rtpengine did not answer {name!r}") from None
        finally:
            self.pending.pop(cookie, None)
        if answer.get("result") not in ("ok", "pong"):
            why = answer.get("error-reason") or answer.get("result")
            raise MediaError(f"rtpengine refused {name!r}: {why}")
        return answer


class _Keys(asyncio.DatagramProtocol):
    """rtpengine's DTMF log: one JSON object a key, when the key's event ends."""

    def __init__(self, on_key: Callable[[str, str], None]) -> None:
        self.on_key = on_key

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        try:
            report = orjson.loads(data)
            callid, event = str(report["callid"]), int(report["event"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("rtpengine reported a key in a form not understood: %r", data[:200])
            return
        if 0 <= event < len(KEYS):
            self.on_key(callid, KEYS[event])


def _address(sdp: str) -> tuple[str, int]:
    """Where rtpengine's description says it takes the audio."""
    audio = audio_of(sdp)
    if audio is None:
        raise MediaError("rtpengine's description has no address")
    return audio.ip, audio.port


class Leg(NamedTuple):
    """A relayed leg now: its rtpengine call-id, the port its phone sends to (rtpengine's, on
    the phone's side: what was said on that side arrives there) and the phone's address as
    its SDP names it."""

    callid: str
    port: int
    phone: tuple[str, int]


@dataclass(frozen=True)
class _Known:
    """What is known of a leg once set up: its G.711 and telephone-event payload types, and
    ``Leg``'s port and phone."""

    payload: int
    dtmf: int | None
    port: int
    phone: tuple[str, int]


@dataclass
class _Legs:
    """The legs relayed, per call (its uniqueid): each party's rtpengine call-id."""

    calls: dict[str, dict[str, str]] = field(default_factory=dict)
    made: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def new(self, uid: str, party: str) -> str:
        return f"{uid}~{party}~{next(self.made)}"

    def replace(self, uid: str, party: str, callid: str) -> str | None:
        """``callid`` is ``party``'s leg now; the one it replaces, if any."""
        parties = self.calls.setdefault(uid, {})
        old, parties[party] = parties.get(party), callid
        return old

    def pop(self, uid: str) -> list[str]:
        return list(self.calls.pop(uid, {}).values())


_PLAIN_RTP: dict[str, Any] = {
    "flags": ["trust-address", "no-rtcp-attribute", "strict-source"],
    "replace": ["origin", "session-connection"],
    "ICE": "remove",
}
"""How both sides of a leg are described: plain RTP at the addresses their SDP names (not the
address the command came from), and only packets from there are taken once learnt."""
_REPOINT: dict[str, Any] = {
    **_PLAIN_RTP,
    "flags": [*_PLAIN_RTP["flags"], "port-latching", "endpoint-learning-off"],
}
"""How a leg's room side is pointed elsewhere (``Relay.repoint``), by an ``answer`` alone:
``port-latching`` keeps the ports the phone sends to (rtpengine would give it new ones for a
new room address), ``endpoint-learning-off`` takes the new room's audio only, from the next
packet (else whatever sends in the 3 s after a command is learnt, the old room too)."""
PHONE, ROOM = "phone", "room"
"""The from-tag of each leg's phone side and the to-tag of its room side."""


class Relay:
    """rtpengine, supervised: started, pinged, restarted; ``anchor`` and ``drop`` legs.

    ``on_key(uid, party, key)``: a key the leg's phone pressed (on the event loop).
    ``on_lost(uids)``: rtpengine failed; these calls' relayed audio is gone."""

    def __init__(
        self,
        config: RelayConfig,
        on_key: Callable[[str, str, str], None],
        on_lost: Callable[[list[str]], None],
    ) -> None:
        self.config = config
        self.on_key, self.on_lost = on_key, on_lost
        self.process: asyncio.subprocess.Process | None = None
        self.legs = _Legs()
        self.restarts = 0
        self._control: _Control | None = None
        self._keys: asyncio.DatagramTransport | None = None
        self._up = False
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._ended: OrderedDict[str, None] = OrderedDict()
        """The calls ended last (``drop``), oldest first."""
        self._block: socket.socket | None = None
        """The first port of this rtpengine's block, bound (``_claim``)."""
        self._known: dict[str, _Known] = {}
        """What is known of each leg (by call-id) once set up."""

    @property
    def available(self) -> bool:
        return self._up

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="rtpengine-supervisor")

    async def stop(self) -> None:
        self._stopping, self._up = True, False
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._kill()
        self._close()
        if self._block is not None:
            self._block.close()
            self._block = None

    def _claim(self) -> tuple[int, int]:
        """The block of the port range this server's rtpengine uses. rtpengine binds its
        ports with ``SO_REUSEADDR``, so two of them on one address (two servers on a machine)
        were given the same ports, and each got half of the other's packets. A block is
        claimed by binding its first port without it (no rtpengine can bind that port then);
        the socket is held until ``stop``. Under a ``prefix`` (another network namespace) the
        range is its own."""
        low, high = self.config.ports
        if self.config.prefix:
            return low, high
        if self._block is not None:
            first = self._block.getsockname()[1]
        else:
            size = (high - low + 1) // BLOCKS
            for first in range(low, low + BLOCKS * size, size):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    sock.bind((self.config.ip, first))
                except OSError:
                    sock.close()
                    continue
                self._block = sock
                break
            else:
                raise MediaError(
                    f"every block of the ports {low}-{high} on {self.config.ip} is another "
                    "server's rtpengine's"
                )
        return first + 1, first + (high - low + 1) // BLOCKS - 1

    # --- legs ----------------------------------------------------------------------------

    async def anchor(
        self,
        uid: str,
        party: str,
        phone: tuple[str, int],
        payload: int,
        dtmf: int | None,
        join: Callable[[tuple[str, int]], Awaitable[tuple[str, int]]],
    ) -> tuple[str, int]:
        """Relay ``party``'s phone (at ``phone``, G.711 ``payload``, telephone-events as
        ``dtmf``, None: it sends none): the phone's side is offered to rtpengine, ``join``
        puts rtpengine's other side in the room (it gets rtpengine's address, gives the
        room's), and the room's side answers. Returns rtpengine's address for the phone.
        ``MediaError`` when it cannot."""
        control = self._control
        if control is None or not self._up:
            raise MediaError("rtpengine is not running")
        callid = self.legs.new(uid, party)
        leg = {"call-id": callid, "from-tag": PHONE}
        offered = await control.command(
            "offer", **leg, sdp=engine_sdp(phone, payload, dtmf=dtmf), **_PLAIN_RTP
        )
        try:
            room = await join(_address(str(offered.get("sdp", ""))))
            answered = await control.command(
                "answer",
                **leg,
                **{"to-tag": ROOM},
                sdp=engine_sdp(room, payload, dtmf=dtmf),
                **_PLAIN_RTP,
            )
            # Its keys are read and reported, never passed on: the room drops them anyway,
            # and a call forwarded leg to leg plays the agent's as tones, as a room does.
            await control.command("block DTMF", **leg)
        except MediaError:  # the room or rtpengine refused: nothing of the leg is left
            await self._delete(callid)
            raise
        if uid in self._ended:  # the call ended while its leg was set up
            await self._delete(callid)
            raise MediaError(f"call {uid} has ended")
        old = self.legs.replace(uid, party, callid)
        phone_side = _address(str(answered.get("sdp", "")))
        self._known[callid] = _Known(payload, dtmf, phone_side[1], phone)
        if old is not None:
            await self._delete(old)
        return phone_side

    async def repoint(self, uid: str, party: str, room: tuple[str, int]) -> None:
        """From the next packet, ``party``'s phone is heard at ``room`` and hears only what
        comes from there (a room's participant, or another leg's room side: the two legs of
        a call pointed at each other forward it leg to leg). The phone notices nothing: its
        address and rtpengine's ports stay. ``MediaError`` when rtpengine cannot."""
        control = self._control
        callid = self.legs.calls.get(uid, {}).get(party)
        if control is None or not self._up or callid is None:
            raise MediaError(f"the {party} side of call {uid} is not relayed")
        known = self._known[callid]
        payload, dtmf = known.payload, known.dtmf
        leg = {"call-id": callid, "from-tag": PHONE, "to-tag": ROOM}
        await control.command("answer", **leg, sdp=engine_sdp(room, payload, dtmf=dtmf), **_REPOINT)

    def agree(self, uid: str, party: str, other: str) -> bool:
        """Whether both parties of call ``uid`` are relayed legs that send the same formats
        (G.711 and telephone-event payload types): pointed at each other, rtpengine passes
        their packets on as they are."""
        legs = self.legs.calls.get(uid, {})
        known = [self._known.get(legs.get(p, "")) for p in (party, other)]
        formats = [(k.payload, k.dtmf) if k is not None else None for k in known]
        return formats[0] is not None and formats[0] == formats[1]

    def leg(self, uid: str, party: str) -> Leg | None:
        """``party``'s leg of call ``uid`` now, if relayed."""
        callid = self.legs.calls.get(uid, {}).get(party)
        known = self._known.get(callid or "")
        if callid is None or known is None:
            return None
        return Leg(callid, known.port, known.phone)

    async def record(self, callid: str, on: bool) -> None:
        """Record what leg ``callid`` receives from now on (a new pcap file in
        ``config.recordings``'s ``pcaps``, one a stretch), or stop (its file is closed
        whole). ``MediaError`` when rtpengine cannot."""
        control = self._control
        if control is None or not self._up or self.config.recordings is None:
            raise MediaError("rtpengine does not record")
        name = "start recording" if on else "stop recording"
        await control.command(name, **{"call-id": callid})

    async def _delete(self, callid: str) -> None:
        self._known.pop(callid, None)
        control = self._control
        if control is None or not self._up:
            return
        try:
            await control.command("delete", **{"call-id": callid})
        except MediaError as err:  # already gone (it never got that far): nothing to free
            log.debug("rtpengine's leg %s not deleted: %s", callid, err)

    async def drop(self, uid: str) -> None:
        """The call is over: its legs are deleted (an unknown call is no error), and a leg
        of it still being set up is deleted once it is."""
        self._ended[uid] = None
        while len(self._ended) > ENDED_KEPT:
            self._ended.popitem(last=False)
        for callid in self.legs.pop(uid):
            await self._delete(callid)

    def _key(self, callid: str, key: str) -> None:
        parts = callid.rsplit("~", 2)
        if len(parts) == 3 and self.legs.calls.get(parts[0], {}).get(parts[1]) == callid:
            self.on_key(parts[0], parts[1], key)  # (a key of a leg replaced since: dropped)

    # --- the process ----------------------------------------------------------------------

    async def _run(self) -> None:
        delay = 0.5
        while not self._stopping:
            try:
                await self._start_once()
            except (MediaError, OSError) as err:
                log.warning("rtpengine did not start: %s; again in %.1f s", err, delay)
                await self._kill()
                self._close()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            delay, self._up = 0.5, True
            log.info("rtpengine is up (pid %s): SIP legs are relayed, their keys read", self.pid)
            reason = await self._watch()
            self._up = False
            log.warning("rtpengine failed: %s; restarting it", reason)
            lost = list(self.legs.calls)
            self.legs, self._known = _Legs(), {}
            await self._kill()
            self._close()
            self.restarts += 1
            if lost:
                self.on_lost(lost)

    async def _start_once(self) -> None:
        loop = asyncio.get_running_loop()
        self.config.runtime_dir.mkdir(parents=True, exist_ok=True)
        if self.config.recordings is not None:
            self.config.recordings.mkdir(parents=True, exist_ok=True)
        keys, _ = await loop.create_datagram_endpoint(
            lambda: _Keys(self._key), local_addr=(self.config.report_ip, 0)
        )
        self._keys = keys
        control_port = _free_udp_port()
        keys_port = keys.get_extra_info("sockname")[1]
        with self.config.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                *self.config.command(control_port, keys_port, self._claim()),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=out,
                start_new_session=True,
                preexec_fn=no_core_files,
            )
        _, control = await loop.create_datagram_endpoint(
            _Control, remote_addr=(self.config.control_ip, control_port)
        )
        self._control = control
        started = time.monotonic()
        while True:  # it answers once it has opened its ports
            if self.process.returncode is not None:
                raise MediaError(
                    f"rtpengine exited with {self.process.returncode} (see {self.config.log})"
                )
            try:
                await control.command("ping")
                return
            except MediaError:  # not listening yet
                if time.monotonic() - started > START_TIMEOUT:
                    raise MediaError(
                        f"rtpengine did not answer within {START_TIMEOUT:g} s"
                    ) from None
                await asyncio.sleep(0.05)

    async def _watch(self) -> str:
        assert self.process is not None and self._control is not None
        exited = asyncio.create_task(self.process.wait())
        try:
            while True:
                done, _ = await asyncio.wait({exited}, timeout=PING_EVERY)
                if exited in done:
                    return f"rtpengine exited with {self.process.returncode}"
                try:
                    await self._control.command("ping")
                except (MediaError, OSError) as err:
                    return str(err)
        finally:
            exited.cancel()

    def _close(self) -> None:
        control, self._control = self._control, None
        if control is not None and control.transport is not None:
            control.transport.close()
        keys, self._keys = self._keys, None
        if keys is not None:
            keys.close()

    async def _kill(self) -> None:
        proc, self.process = self.process, None
        await stop_process(proc)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
