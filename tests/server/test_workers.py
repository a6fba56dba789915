"""``ucs serve --cluster --workers N`` (issue 19, CONTRACT §13, docs/deploy.md "One machine,
every core"): N nodes of a cluster on one machine behind HAProxy on one port, supervised.
The process tests need PostgreSQL (``UCS_TEST_POSTGRES_URL``) and HAProxy (``make edge``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy
import sqlalchemy.pool
from typer.testing import CliRunner

from tests.cluster import ADMIN, HAPROXY, PATIENCE
from tests.helpers import POSTGRES, free_port, state_once_back
from ucs import workers
from ucs.cli import app
from ucs.client import Operator
from ucs.web.handoff import node_scope

DEPLOYED = Path(__file__).parents[2] / "deploy" / "haproxy.cfg"


def _directives(text: str) -> list[str]:
    lines = [line.split("#", 1)[0].rstrip() for line in text.splitlines()]
    return [line for line in lines if line.strip()]


def test_the_front_is_configured_as_deploy_haproxy_cfg_ships() -> None:
    nodes = [workers.Worker("node-a", 8081, "", 8091), workers.Worker("node-b", 8082, "", 8092)]
    made = workers.haproxy_config("127.0.0.1", 8080, nodes)
    assert _directives(made) == _directives(DEPLOYED.read_text())


def test_workers_plan_names_ports_and_advertised_paths() -> None:
    nodes = workers.plan("box", 3, "https://ucs.example.com/")
    assert [n.name for n in nodes] == ["box-1", "box-2", "box-3"]
    assert [n.advertise for n in nodes] == [
        f"https://ucs.example.com/node/box-{i}/" for i in (1, 2, 3)
    ]
    ports = {n.port for n in nodes} | {n.health for n in nodes}
    assert len(ports) == 6
    # never a port an outgoing connection could hold when a standby binds it, later
    assert not ports & set(workers._ephemeral())


def test_a_node_path_reaches_the_node_as_its_own_path() -> None:
    scope = {
        "type": "http",
        "path": "/node/box-2/api/sim/calls",
        "raw_path": b"/node/box-2/api/sim/calls",
    }
    assert (node_scope(scope)["path"], node_scope(scope)["raw_path"]) == (
        "/api/sim/calls",
        b"/api/sim/calls",
    )
    for path in ("/api/sim/calls", "/node/", "/node//x", "/nodes/a/x", "/node/box-2"):
        assert node_scope({"path": path})["path"] == path


def _serve(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["serve", *args])
    return result.exit_code, result.output


def test_more_workers_than_one_need_the_cluster_and_haproxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out = _serve("--workers", "2", "--db", "sqlite:///:memory:")
    assert code == 2 and "add --cluster" in out
    pg = "postgresql://ucs@127.0.0.1/ucs"
    code, out = _serve("--cluster", "--workers", "2", "--db", "sqlite:///:memory:")
    assert code == 2 and "PostgreSQL" in out
    code, out = _serve("--cluster", "--workers", "2", "--db", pg, "--switch", "sip")
    assert code == 2 and "--workers 1" in out
    code, out = _serve("--cluster", "--workers", "0", "--db", pg)
    assert code == 2
    monkeypatch.setattr(workers, "haproxy_binary", lambda: None)
    code, out = _serve("--cluster", "--workers", "2", "--db", pg)
    assert code == 2 and "'haproxy' package" in out


# --- the real thing ----------------------------------------------------------------------------


def _children(pid: int) -> dict[int, int]:
    """Every process of the machine: its parent."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
    return parents


def _tree(pid: int) -> list[int]:
    """The live descendants of ``pid``."""
    parents = _children(pid)
    found, todo = [], [pid]
    while todo:
        at = todo.pop()
        kids = [p for p, parent in parents.items() if parent == at]
        found += kids
        todo += kids
    return found


def _worker_pid(supervisor: int, name: str) -> int | None:
    """The process of the worker ``name``: a child of the supervisor with UCS_NODE=name."""
    for pid, parent in _children(supervisor).items():
        if parent != supervisor:
            continue
        with contextlib.suppress(OSError):
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            if f"UCS_NODE={name}".encode() in env:
                return pid
    return None


def _start(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=out)


def _alive(pids: list[int]) -> list[int]:
    return [p for p in pids if Path(f"/proc/{p}").exists()]


async def _committed(db: str, username: str, phone: str) -> None:
    """Once the agent's phone and READY are in the database (the writer commits within
    milliseconds; a kill -9 before loses them, docs/deploy.md)."""
    engine = sqlalchemy.create_engine(db, poolclass=sqlalchemy.pool.NullPool)
    query = sqlalchemy.text(
        "SELECT s.identifier, st.state FROM agents a JOIN sessions s ON s.agent_id = a.id "
        "JOIN agent_state st ON st.agent_id = a.id WHERE a.username = :u"
    )

    def done() -> bool:
        with engine.connect() as conn:
            row = conn.execute(query, {"u": username}).first()
        return row is not None and row[0] == phone and "READY" in str(row[1])

    try:
        async with asyncio.timeout(PATIENCE):
            while True:
                if await asyncio.to_thread(done):
                    return
                await asyncio.sleep(0.1)
    finally:
        engine.dispose()


async def _health(url: str) -> dict[str, Any] | None:
    try:
        async with httpx.AsyncClient() as http:
            answer = await http.get(url, timeout=2)
    except httpx.HTTPError:
        return None
    if answer.status_code != 200:
        return None
    body: dict[str, Any] = answer.json()
    return body


async def _partitions(front: str, names: list[str]) -> dict[str, tuple[str, int]]:
    """Which worker runs which partition, asked of each through the front: ``{partition:
    (worker, epoch)}``."""
    found = {}
    for name in names:
        health = await _health(f"{front}/node/{name}/healthz")
        if health is not None and health.get("node") == name:
            found[health["partition"]] = (name, health["epoch"])
    return found


async def _until(front: str, names: list[str], check: Any, log: Path) -> dict[str, tuple[str, int]]:
    found: dict[str, tuple[str, int]] = {}
    try:
        async with asyncio.timeout(PATIENCE):
            while True:
                found = await _partitions(front, names)
                if check(found):
                    return found
                await asyncio.sleep(0.2)
    except TimeoutError:
        text = await asyncio.to_thread(log.read_text)
        raise AssertionError(f"partitions served: {found}; the log:\n{text}") from None


@pytest.mark.anyio
@pytest.mark.skipif(POSTGRES is None, reason="UCS_TEST_POSTGRES_URL is not set")
@pytest.mark.skipif(not HAPROXY, reason="haproxy is not installed (make edge)")
async def test_two_workers_behind_one_port_hand_clients_on_restart_and_stop(
    cluster_db: str, tmp_path: Path
) -> None:
    port = free_port()
    front = f"http://127.0.0.1:{port}"
    names = ["w-1", "w-2"]
    log = tmp_path / "serve.log"
    cmd = [sys.executable, "-m", "ucs.cli", "serve", "--demo", "--cluster", "--node", "w"]
    cmd += ["--workers", "2", "--media", "off", "--db", cluster_db, "--port", str(port)]
    proc = _start(cmd, log)
    clients: list[Operator] = []
    try:
        served = await _until(front, names, lambda found: "main" in found, log)
        async with httpx.AsyncClient(base_url=front, headers=ADMIN) as http:
            q = await http.post("/api/queues", json={"name": "North", "partition": "north"})
            body = {"username": "nina", "password": "nina-pass", "partition": "north"}
            a = await http.post("/api/agents", json=body | {"memberships": [{"queue": 4}]})
            assert (q.status_code, a.status_code) == (201, 201), (q.text, a.text)
        # the other worker was a standby: it takes the new partition
        served = await _until(front, names, lambda found: {"main", "north"} <= set(found), log)
        assert served["main"][0] != served["north"][0]
        north = served["north"][0]
        # nina, added at main's worker, reaches north's by itself (within its next renewal)
        at_north = f"{front}/node/{north}/api/agents/{a.json()['id']}"
        async with asyncio.timeout(PATIENCE), httpx.AsyncClient(headers=ADMIN) as http:
            while True:
                if (await http.get(at_north)).json()["memberships"]:
                    break
                await asyncio.sleep(0.2)

        # round robin: each agent's two clients land one on each worker, one is handed on
        for username in ("agent1", "agent1", "nina", "nina"):
            op = Operator(front)
            clients.append(op)
            await op.connect()
            await op.login(username, f"{username}-pass")
        mains, norths = clients[:2], clients[2:]
        assert {op.server for op in norths} == {front, f"{front}/node/{north}/"}
        assert {op.server for op in mains} == {front, f"{front}/node/{served['main'][0]}/"}
        for group, phone in ((mains, "phone1"), (norths, "phone4")):
            await group[0].select_identifier(phone)
            await group[0].provision()
            await group[0].change_status("READY")
            for op in group:
                assert (await op.state())["state"] == "READY"

        await _committed(cluster_db, "nina", "phone4")  # what a kill -9 cannot take back

        # kill -9 of the worker that runs north: started again, it takes north back
        pid = _worker_pid(proc.pid, north)
        assert pid is not None, log.read_text()
        os.kill(pid, signal.SIGKILL)
        await _until(front, names, lambda found: "north" in found and found["north"][1] == 2, log)
        for op in norths:
            state = await state_once_back(op, PATIENCE)
            assert (state["state"], state["identifier"]) == ("READY", "phone4")
        for op in mains:  # main's worker noticed nothing
            state = await op.state()
            assert (state["state"], state["identifier"]) == ("READY", "phone1")
        text = log.read_text()
        assert f"worker {north} was killed by signal 9: starting it again" in text
        assert f"[{north}] " in text and "[haproxy] " in text
        for op in clients:
            await op.close()
        clients = []

        # SIGTERM: everything stops, nothing is left behind
        family = _tree(proc.pid)
        assert len(family) >= 3  # HAProxy and two workers (and their writers)
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(asyncio.to_thread(proc.wait), PATIENCE) == 0
        left = _alive(family)
        assert left == [], log.read_text()
    finally:
        for op in clients:
            with contextlib.suppress(Exception):
                await op.close()
        if proc.poll() is None:
            for pid in _tree(proc.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            proc.kill()
        proc.wait()
