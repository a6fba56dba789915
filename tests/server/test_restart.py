"""The server is killed (-9) in the middle of the day and started again: nothing is lost."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.helpers import free_port, start_server, state_once_back
from ucs.client import Operator
from ucs.storage.store import Store

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}


async def test_kill_9_during_a_call_loses_no_agent_statistic_or_record(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/ucs.db"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(db, port)
    try:
        async with Operator(url, reconnect=False) as op:
            await op.login("agent1", "agent1-pass")
            await op.select_identifier("phone1")
            await op.provision()
            await op.change_status("READY")
            events = op.events()
            async with httpx.AsyncClient(base_url=url, headers=ADMIN) as http:
                first = (
                    await http.post("/api/sim/calls", json={"queue": 2, "from": "+420601111111"})
                ).json()["uniqueid"]
                async with asyncio.timeout(5):
                    async for e in events:
                        if e.type == "call" and e.what == "ringing":
                            break
                await op.answer()
                await asyncio.sleep(1.2)
                await http.post(f"/api/sim/calls/{first}/hangup")
                second = (
                    await http.post("/api/sim/calls", json={"queue": 2, "from": "+420601222222"})
                ).json()["uniqueid"]
                await asyncio.sleep(0.2)
                await op.answer()
                await asyncio.sleep(0.5)
                before = await op.state()
                assert before["call"]["state"] == 3
        await asyncio.sleep(0.3)  # the writer commits within milliseconds
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    proc = start_server(db, port)
    try:
        async with Operator(url, reconnect=False) as op:
            welcome = await op.login("agent1", "agent1-pass")
            assert welcome["token"]
            after = await op.state()
            assert (after["state"], after["identifier"]) == ("READY", "phone1")
            user = after["user"]
            assert user["status"] == "READY"
            assert user["in_calls_answered"] == 2
            assert user["in_talktime"] >= 1
            assert after["calls"] == []
    finally:
        proc.terminate()
        proc.wait()
    store = Store(db)
    records = {r["uniqueid"]: r for r in store.cdr()}
    store.stop()
    assert records[first]["cause"] == 3
    assert records[second]["cause"] == 0 and records[second]["disconnected"] is not None


def _writer_of(pid: int) -> int:
    """The server's writer process (``storage/committer.py``), a child of ``pid``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == pid and b"ucs.storage.committer" in cmdline:
            return int(entry.name)
    raise AssertionError("the server has no writer process")


async def test_a_call_rings_only_once_its_record_is_kept_so_a_kill_9_loses_no_call(
    tmp_path: Path,
) -> None:
    """CONTRACT §13: every call created is in the call records exactly once. The writer is
    stopped (SIGSTOP) so that nothing can commit: the caller waits, heard and counted, but
    rings nobody; once it writes again the agent is rung, and a kill -9 right then still
    leaves the call in the records (ended, cause 0), once."""
    db = f"sqlite:///{tmp_path}/ucs.db"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(db, port, UCS_MEDIA="off", UCS_KEEP_WAIT="120")
    writer = _writer_of(proc.pid)
    async with asyncio.timeout(60), httpx.AsyncClient() as http:
        while True:  # the child ready: it, not the server's thread, writes from now on
            if "writer" not in (await http.get(f"{url}/healthz")).json():
                break
            await asyncio.sleep(0.1)
    try:
        async with Operator(url, reconnect=False) as op:
            await op.login("agent1", "agent1-pass")
            await op.select_identifier("phone1")
            await op.provision()
            await op.change_status("READY")
            events = op.events()
            os.kill(writer, signal.SIGSTOP)
            async with httpx.AsyncClient(base_url=url, headers=ADMIN) as http:
                made = await http.post("/api/sim/calls", json={"queue": 2, "from": "+420601333333"})
                assert made.status_code == 201, made.text
                uid = made.json()["uniqueid"]
                queues = (await op.directory())["queues"]
                assert next(q["waiting"] for q in queues if q["id"] == 2) == 1  # it waits
            with pytest.raises(TimeoutError):  # and rings nobody while nothing can commit
                async with asyncio.timeout(1.5):
                    async for e in events:
                        assert not (e.type == "call" and e.what == "ringing"), e
            os.kill(writer, signal.SIGCONT)
            async with asyncio.timeout(30):
                async for e in events:
                    if e.type == "call" and e.what == "ringing":
                        assert e.call["uniqueid"] == uid
                        break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.kill(writer, signal.SIGKILL)
    proc = start_server(db, port, UCS_MEDIA="off")
    proc.terminate()
    proc.wait()
    store = Store(db)
    records = [r for r in store.cdr() if r["uniqueid"] == uid]
    store.stop()
    assert len(records) == 1 and records[0]["cause"] == 0


async def test_an_sdk_client_resumes_its_session_after_the_server_restarts(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path}/ucs.db"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(db, port)
    async with Operator(url) as op:
        try:
            await op.login("agent3", "agent3-pass")
            await op.select_identifier("phone3")
            await op.provision()
            await op.change_status("AUX", "Meeting")
            await asyncio.sleep(0.3)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        proc = start_server(db, port)
        try:
            state = await state_once_back(op)
            assert (state["state"], state["identifier"]) == ("READY", "phone3")
            assert state["user"]["status"] == "AUX"
        finally:
            proc.terminate()
            proc.wait()


async def _working(url: str, user: str, phone: str, status: tuple[str, ...]) -> Operator:
    op = Operator(url)
    await op.__aenter__()
    await op.login(user, f"{user}-pass")
    await op.select_identifier(phone)
    await op.provision()
    await op.change_status(*status)
    return op


async def test_kill_9_with_calls_talking_ringing_and_waiting(tmp_path: Path) -> None:
    """Three agents (talking, rung, at lunch) and a caller waiting: after kill -9 and a restart
    each agent's connection resumes by itself with the same phone, status and figures, and
    every call that was live is recorded as ended with cause 0."""
    db = f"sqlite:///{tmp_path}/ucs.db"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(db, port)
    ops: list[Operator] = []
    try:
        talking = await _working(url, "agent1", "phone1", ("READY",))
        rung = await _working(url, "agent3", "phone3", ("READY",))
        lunch = await _working(url, "agent2", "phone2", ("AUX", "Lunch"))
        ops = [talking, rung, lunch]
        async with httpx.AsyncClient(base_url=url, headers=ADMIN) as http:
            # Support (queue 1): agent1 only, as agent2 is at lunch. Sales (queue 2): ring-all.
            live = [
                (await http.post("/api/sim/calls", json={"queue": q, "from": n})).json()["uniqueid"]
                for q, n in ((1, "+420601000001"), (1, "+420601000002"), (2, "+420601000003"))
            ]
        await asyncio.sleep(0.3)
        await talking.answer()  # the first Support caller; the second waits
        await asyncio.sleep(0.5)
        before = [await op.state() for op in ops]
        assert before[0]["call"]["state"] == 3
        assert before[1]["call"]["state"] == 2  # the Sales caller rings agent3
        await asyncio.sleep(0.3)  # the writer commits within milliseconds
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc = start_server(db, port)
        for op, was in zip(ops, before, strict=True):
            after = await state_once_back(op)
            assert (after["state"], after["identifier"]) == ("READY", was["identifier"])
            assert after["user"]["status"] == was["user"]["status"]
            assert after["user"]["auxtimes"].keys() >= was["user"]["auxtimes"].keys()
            for figure in ("in_calls_answered", "in_calls_unanswered", "acwtime", "auxtime"):
                assert after["user"][figure] >= was["user"][figure], figure
            assert after["calls"] == []
        assert (await lunch.state())["user"]["status"] == "AUX"
    finally:
        for op in ops:
            await op.__aexit__(None, None, None)
        proc.terminate()
        proc.wait()
    store = Store(db)
    records = {r["uniqueid"]: r for r in store.cdr()}
    store.stop()
    for uid in live:
        assert records[uid]["cause"] == 0, records[uid]
        assert records[uid]["disconnected"] is not None
