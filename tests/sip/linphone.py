"""Debian's Linphone console client (``linphonec``, liblinphone 5.1) as a headless phone for
the tests: a config of its own in a temp directory, commands on its standard input, and what it
prints read line by line (no audio device: the default ALSA card is missing and left so)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tests.sip.peer import free_udp_port

__all__ = ["LINPHONEC", "Linphone"]

LINPHONEC = shutil.which("linphonec")


@dataclass
class Linphone:
    home: Path
    user: str
    password: str
    server: tuple[str, int]
    sip_port: int = field(default_factory=free_udp_port)
    lines: list[str] = field(default_factory=list)
    _proc: asyncio.subprocess.Process | None = None
    _reader: asyncio.Task[None] | None = None
    _new: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        """Start it and register (``register`` on its console)."""
        assert LINPHONEC is not None
        share = self.home / ".local" / "share" / "linphone"
        share.mkdir(parents=True, exist_ok=True)
        rc = self.home / "linphonerc"
        rc.write_text(
            f"[sip]\nsip_port={self.sip_port}\nsip_tcp_port=-1\ndefault_proxy=-1\n"
            "[net]\nnat_policy_ref=\n[sound]\nplayback_dev_id=\ncapture_dev_id=\n",
            encoding="utf-8",
        )
        self._proc = await asyncio.create_subprocess_exec(
            LINPHONEC,
            "-c",
            str(rc),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "HOME": str(self.home)},
        )
        self._reader = asyncio.create_task(self._read())
        host, port = self.server
        self.command(f"register sip:{self.user}@{host}:{port} sip:{host}:{port} {self.password}")

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        while line := await self._proc.stdout.readline():
            self.lines.append(line.decode(errors="replace").strip())
            self._new.set()

    def command(self, text: str) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(f"{text}\n".encode())

    async def printed(self, text: str, after: int = 0, wait: float = 10.0) -> int:
        """The index of the first line from ``after`` on that contains ``text``."""
        async with asyncio.timeout(wait):
            while True:
                for i in range(after, len(self.lines)):
                    if text in self.lines[i]:
                        return i
                self._new.clear()
                await self._new.wait()

    async def stop(self) -> None:
        if self._proc is None:
            return
        with contextlib.suppress(Exception):
            self.command("quit")
        try:
            await asyncio.wait_for(self._proc.wait(), 5)
        except TimeoutError:
            self._proc.kill()
            await self._proc.wait()
        if self._reader is not None:
            self._reader.cancel()
