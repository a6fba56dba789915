"""Load through the B2BUA: sipp as the trunk sends 500 calls into queue 1 at 100 calls/s; a
second sipp answers as the phones of 20 agents logged in through the SDK (the phones answer the
ringing INVITE at once, like a handset picked up). Every call must
succeed at sipp and be in the call records. No timing is asserted."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.sip.conftest import SipRunning, running_sip_server
from tests.sip.peer import Peer, free_udp_port
from ucs.client import Operator

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp is missing (make sip-peers)"),
]

SIPP = shutil.which("sipp") or "sipp"
# UCS_SIP_LOAD_RATE / _SECONDS / _AGENTS / _HOLD_MS measure other loads by hand (docs/telephony.md)
RATE = int(os.environ.get("UCS_SIP_LOAD_RATE", "100"))
CALLS = RATE * int(os.environ.get("UCS_SIP_LOAD_SECONDS", "5"))
AGENTS = int(os.environ.get("UCS_SIP_LOAD_AGENTS", "20"))
HOLD_MS = int(os.environ.get("UCS_SIP_LOAD_HOLD_MS", "0"))
ADMIN = {"Authorization": "Bearer demo-admin-token"}


async def _sipp(*args: str, cwd: Path, log: str) -> asyncio.subprocess.Process:
    with (cwd / log).open("wb") as out:
        return await asyncio.create_subprocess_exec(
            SIPP,
            *args,
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    proc.terminate()
    try:
        async with asyncio.timeout(5):
            await proc.wait()
    except TimeoutError:
        proc.kill()
        await proc.wait()


async def _agents(running: SipRunning, phones_port: int) -> list[Operator]:
    """AGENTS agents in queue 1 (no wrap-up), each with a phone registered at the sipp UAS,
    logged in and READY."""
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as api:
        r = await api.patch("/api/queues/1", json={"wrapup": 0})
        assert r.status_code == 200, r.text
        for i in range(AGENTS):
            name = f"load{i:02d}"
            r = await api.post(
                "/api/lines",
                json={"identifier": name, "extension": f"3{i:03d}", "secret": "load-secret"},
            )
            assert r.status_code == 201, r.text
            line = r.json()["id"]
            r = await api.post(
                "/api/agents",
                json={
                    "username": name,
                    "password": "load-pass",
                    "memberships": [{"queue": 1}],
                    "lines": [line],
                },
            )
            assert r.status_code == 201, r.text
    for i in range(AGENTS):
        phone = await Peer(f"load{i:02d}", running.sip, contact_port=phones_port).open()
        try:
            assert (await phone.register("load-secret")).code == 200
        finally:
            phone.close()

    async def agent(i: int) -> Operator:
        op = Operator(running.url)
        await op.__aenter__()
        await op.login(f"load{i:02d}", "load-pass")
        await op.select_identifier(f"load{i:02d}")
        await op.provision()
        await op.change_status("READY")
        return op

    return list(await asyncio.gather(*(agent(i) for i in range(AGENTS))))


def _stats(path: Path) -> dict[str, Any]:
    """The last line of sipp's statistics file."""
    with path.open() as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    return rows[-1]


@pytest.fixture
async def loaded(tmp_path: Path) -> AsyncIterator[tuple[SipRunning, int, list[Operator]]]:
    trunk_port, phones_port = free_udp_port(), free_udp_port()
    async with running_sip_server(tmp_path, trunk_port=trunk_port) as running:
        ops: list[Operator] = []
        try:
            ops = await _agents(running, phones_port)
            yield running, phones_port, ops
        finally:
            for op in ops:
                with contextlib.suppress(Exception):
                    await op.__aexit__(None, None, None)


async def test_sipp_100_calls_per_second_into_queue_1(
    loaded: tuple[SipRunning, int, list[Operator]], tmp_path: Path
) -> None:
    running, phones_port, _ = loaded
    host, sip_port = running.sip
    # the phones: answer every INVITE at once (180, 200 with SDP), then wait for the BYE
    phones = await _sipp(
        "-sn", "uas", "-i", "127.0.0.1", "-p", str(phones_port), "-nostdin",
        "-trace_err", "-error_file", "phones_errors.log",
        cwd=tmp_path, log="phones.log",
    )  # fmt: skip
    trunk: asyncio.subprocess.Process | None = None
    try:
        trunk = await _sipp(
            "-sn", "uac", "-s", "100", f"{host}:{sip_port}",
            "-i", "127.0.0.1", "-p", str(running.trunk.port),
            "-r", str(RATE), "-m", str(CALLS), "-l", str(CALLS), "-d", str(HOLD_MS),
            "-nostdin", "-recv_timeout", "20000", "-timeout", "60s", "-timeout_error",
            "-trace_stat", "-stf", "trunk.csv", "-fd", "1",
            "-trace_err", "-error_file", "trunk_errors.log",
            "-trace_screen", "-screen_file", "trunk_screen.log",
            cwd=tmp_path, log="trunk.log",
        )  # fmt: skip
        code = await trunk.wait()
        stats = _stats(tmp_path / "trunk.csv")
        screen = (tmp_path / "trunk_screen.log").read_text(errors="replace")
        assert code == 0, screen
        assert int(stats["SuccessfulCall(C)"]) == CALLS, screen
        assert int(stats["FailedCall(C)"]) == 0, screen
    finally:
        if trunk is not None:
            await _stop(trunk)
        await _stop(phones)

    # every call is in the call records, answered by one of the agents, ended by the caller
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as api:
        async with asyncio.timeout(20):
            while True:
                r = await api.get("/api/cdr", params={"queue": 1, "limit": 10_000})
                assert r.status_code == 200
                records = r.json()
                if len(records) >= CALLS:
                    break
                await asyncio.sleep(0.1)
    assert len(records) == CALLS
    assert len({rec["uniqueid"] for rec in records}) == CALLS
    assert {rec["cause"] for rec in records} == {3}
    assert all(rec["connected_number"] for rec in records), records[0]
