"""Debian's baresip as a real phone in the tests: headless, on loopback, driven through its
``ctrl_tcp`` module (netstring-framed JSON commands, events back on the same socket).

Audio goes through the ``aubridge`` module (a player and a source that feed each other), so no
sound card is needed; G.711 is the only codec. baresip 1.0.0 (Debian 12) does not honour
``Call-Info: answer-after`` (newer releases do): with ``answermode=manual`` the test accepts the
call through ``ctrl_tcp`` as the phone's auto-answer would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["BARESIP", "Baresip", "free_sip_port"]

BARESIP = shutil.which("baresip")


def _bindable(kind: int, port: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_sip_port() -> int:
    """A port free for baresip's SIP listener: UDP and TCP on it, and TCP on the next one
    (baresip also listens for TLS there)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        if port < 65535 and all(
            _bindable(k, p)
            for k, p in (
                (socket.SOCK_STREAM, port),
                (socket.SOCK_STREAM, port + 1),
                (socket.SOCK_DGRAM, port + 1),
            )
        ):
            return port


def _free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Baresip:
    """One baresip process with one account."""

    directory: Path
    user: str
    password: str
    server: tuple[str, int]
    answermode: str = "manual"
    sip_port: int = field(default_factory=free_sip_port)
    ctrl_port: int = field(default_factory=_free_tcp_port)
    events: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    _proc: asyncio.subprocess.Process | None = None
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None
    _task: asyncio.Task[None] | None = None
    _responses: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    _tokens: int = 0
    audio: tuple[str, ...] = (
        "audio_player aubridge,ucs",
        "audio_source aubridge,ucs",
        "audio_alert aubridge,ucs",
    )
    """Its audio devices' lines of ``config`` (a test with real audio: a file said, what is
    heard written to files)."""
    modules: tuple[str, ...] = ()
    """More modules (``sndfile.so``, ``aufile.so``), and their settings."""
    net: tuple[str, ...] = ()
    """Network lines (``net_interface``: the address its SDP names)."""

    def _configure(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    f"sip_listen 127.0.0.1:{self.sip_port}",
                    *self.audio,
                    *self.net,
                    "module_path /usr/lib/baresip/modules",
                    "module g711.so",
                    "module aubridge.so",
                    *self.modules,
                    "module_app account.so",
                    "module_app menu.so",
                    "module_app ctrl_tcp.so",
                    f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}",
                    "",
                ]
            )
        )
        host, port = self.server
        (self.directory / "accounts").write_text(
            f"<sip:{self.user}@{host}:{port}>;auth_pass={self.password};"
            f"answermode={self.answermode};regint=600\n"
        )

    async def start(self) -> Baresip:
        assert BARESIP is not None
        self._configure()
        with (self.directory / "baresip.log").open("wb") as log:
            self._proc = await asyncio.create_subprocess_exec(
                BARESIP,
                "-f",
                str(self.directory),
                "-v",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        async with asyncio.timeout(10):
            while True:
                try:
                    self._reader, self._writer = await asyncio.open_connection(
                        "127.0.0.1", self.ctrl_port
                    )
                    break
                except OSError:
                    if self._proc.returncode is not None:
                        raise RuntimeError(f"baresip exited: {self.log()}") from None
                    await asyncio.sleep(0.05)
        self._task = asyncio.create_task(self._read())
        return self

    def log(self) -> str:
        path = self.directory / "baresip.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        proc = self._proc
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                async with asyncio.timeout(5):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()

    async def _read(self) -> None:
        assert self._reader is not None
        while True:
            length = await self._reader.readuntil(b":")
            data = await self._reader.readexactly(int(length[:-1]) + 1)  # with the trailing ","
            msg = json.loads(data[:-1])
            if msg.get("event"):
                self.events.put_nowait(msg)
            elif msg.get("response"):
                self._responses.put_nowait(msg)

    async def command(self, command: str, params: str = "") -> dict[str, Any]:
        """Run a command (those of the ``menu`` module: ``accept``, ``hangup``, ``dial``…)."""
        assert self._writer is not None
        self._tokens += 1
        body = json.dumps({"command": command, "params": params, "token": str(self._tokens)})
        self._writer.write(f"{len(body.encode())}:{body},".encode())
        await self._writer.drain()
        async with asyncio.timeout(5):
            return await self._responses.get()

    async def event(self, kind: str, wait: float = 10.0) -> dict[str, Any]:
        """The next event of this type (``REGISTER_OK``, ``CALL_INCOMING``, ``CALL_CLOSED``…)."""
        async with asyncio.timeout(wait):
            while True:
                msg = await self.events.get()
                if msg.get("type") == kind:
                    return msg

    async def events_of(self, *kinds: str, wait: float = 10.0) -> list[dict[str, Any]]:
        """One event of each type named, in whatever order they come: a CANCEL and the next
        INVITE may reach the phone either way round (sippy holds a CANCEL until the INVITE's
        first provisional answer comes back; the new INVITE does not wait)."""
        left, seen = list(kinds), []
        async with asyncio.timeout(wait):
            while left:
                msg = await self.events.get()
                if msg.get("type") in left:
                    left.remove(msg["type"])
                    seen.append(msg)
        return seen
