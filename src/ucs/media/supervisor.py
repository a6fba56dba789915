"""Janus as a child process of ``ucs serve``: started with a configuration written at start,
health-checked (a keepalive every few seconds through its API), restarted when it dies or stops
answering, stopped with the server.

``on_up`` gets a connected ``JanusClient`` each time the engine is (again) ready; ``on_down``
gets the reason when it fails, before it is restarted. Restarts back off from half a second to
30 s while the engine keeps failing at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import subprocess
import time
from collections.abc import Callable

from ucs.media.base import MediaError, no_core_files, stop_process
from ucs.media.janus_api import KEEPALIVE, JanusClient
from ucs.media.janus_config import JanusConfig, write_config

__all__ = ["Supervisor", "janus_installed"]

log = logging.getLogger("ucs.media")

START_TIMEOUT = 15.0
"""Seconds Janus has to open its API socket."""


def janus_installed(binary: str = "janus") -> bool:
    return shutil.which(binary) is not None


class Supervisor:
    def __init__(
        self,
        config: JanusConfig,
        on_up: Callable[[JanusClient], None],
        on_down: Callable[[str], None],
        *,
        cleanup: bool = False,
    ) -> None:
        self.config = config
        self.cleanup = cleanup
        """Remove the runtime directory at stop (it was made for this run)."""
        self.on_up, self.on_down = on_up, on_down
        self.process: asyncio.subprocess.Process | None = None
        self.restarts = 0
        """How many times the engine was restarted after it failed."""
        self.started_in: float | None = None
        """Seconds the last start took, from the command to an answering API."""
        self._task: asyncio.Task[None] | None = None
        self._client: JanusClient | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="janus-supervisor")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.close()
        await self._kill()
        if self.cleanup:
            shutil.rmtree(self.config.runtime_dir, ignore_errors=True)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    async def _run(self) -> None:
        delay = 0.5
        while not self._stopping:
            try:
                client = await self._start_once()
            except (MediaError, OSError) as err:
                log.warning("the media engine did not start: %s; again in %.1f s", err, delay)
                await self._kill()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            delay = 0.5
            log.info("the media engine is up (pid %s, %.2f s)", self.pid, self.started_in)
            self.on_up(client)
            self._client = client
            reason = await self._watch(client)
            self._client = None
            log.warning("the media engine failed: %s; restarting it", reason)
            self.on_down(reason)
            await client.close()
            await self._kill()
            self.restarts += 1

    async def _start_once(self) -> JanusClient:
        cfg = self.config
        write_config(cfg)
        started = time.monotonic()
        self.process = await asyncio.create_subprocess_exec(
            *cfg.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C of the server's terminal is the server's to handle
            preexec_fn=no_core_files,
        )
        while not cfg.socket.exists():
            if self.process.returncode is not None:
                raise MediaError(f"janus exited with {self.process.returncode} (see {cfg.log})")
            if time.monotonic() - started > START_TIMEOUT:
                raise MediaError(f"janus opened no API socket within {START_TIMEOUT:g} s")
            await asyncio.sleep(0.05)
        client = await JanusClient.connect(cfg.socket)
        self.started_in = time.monotonic() - started
        return client

    async def _watch(self, client: JanusClient) -> str:
        assert self.process is not None
        exited = asyncio.create_task(self.process.wait())
        lost = asyncio.create_task(client.closed.wait())
        try:
            while True:
                done, _ = await asyncio.wait({exited, lost}, timeout=KEEPALIVE)
                if exited in done:
                    return f"janus exited with {self.process.returncode}"
                if lost in done:
                    return "its API connection was lost"
                try:
                    await client.keepalive()
                except MediaError as err:
                    return str(err)
        finally:
            for task in (exited, lost):
                task.cancel()

    async def _kill(self) -> None:
        proc, self.process = self.process, None
        await stop_process(proc)
