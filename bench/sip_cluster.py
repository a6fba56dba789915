"""The SIP cluster benchmark (docs/performance.md, "SIP in a cluster"): sipp as the trunk sends
queue calls at a fixed rate, level by level, (1) straight to one ``ucs serve --cluster --switch
sip`` node running every queue, and (2) through Kamailio (deploy/kamailio.cfg) to two nodes,
half the calls to each partition's queue. A second sipp answers as the agents' phones (at once,
like a handset picked up); the agents are logged in through the SDK. Prints, per level, the
calls that succeeded and failed, sipp's INVITE-to-200 time, and the CPU seconds of the nodes
and of Kamailio; writes ``bench/results/sip_cluster.{json,md}``.

    UCS_BENCH_POSTGRES_URL=postgresql://ucs:ucs@127.0.0.1/ucs \\
        nice -n 19 .venv/bin/python -m bench.sip_cluster

It needs PostgreSQL (a database of its own is made and dropped), sipp and kamailio.
``BENCH_QUICK=1``: two levels of 5 s; ``BENCH_SIP_LEVELS=50,100`` other levels (calls/s);
``BENCH_SIP_SETUPS=kamailio`` one of the two set-ups. Each set-up's logs stay in a temporary
directory it names.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
from tests.cluster import ADMIN, Node, kamailio
from tests.sip.peer import Peer, free_udp_port

from bench.run import Config, machine, run_baseline
from ucs.client import Operator

SIPP = shutil.which("sipp")
KAMAILIO = shutil.which("kamailio") or Path("/usr/sbin/kamailio").exists()
QUICK = bool(os.environ.get("BENCH_QUICK"))
LEVELS = tuple(int(x) for x in os.environ.get("BENCH_SIP_LEVELS", "").split(",") if x) or (
    (10, 20) if QUICK else (10, 20, 40)
)
SECONDS = 5 if QUICK else 10
AGENTS = 10
"""Agents (and phones) per partition."""
RESULTS = Path(__file__).parent / "results"


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, its children too once waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(f) for f in fields[11:15]) / ticks


def _pids_of(parent: int) -> list[int]:
    """A process and its children (Kamailio's workers, a node's writer)."""
    pids = [parent]
    for task in Path(f"/proc/{parent}/task").iterdir():
        children = task / "children"
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
    return pids


def _cpu_tree(pid: int) -> float:
    return sum(_cpu_by_process(pid).values())


ENGINES = frozenset({"janus", "rtpengine"})


def _cpu_by_process(pid: int) -> dict[str, float]:
    """CPU seconds of a process and of each of its children, by the child's name (``comm``:
    ``janus``, ``rtpengine``, ``python`` for a node's committer); the process itself as
    ``self``."""
    found: dict[str, float] = {}
    for p in _pids_of(pid):
        with contextlib.suppress(OSError):
            name = "self" if p == pid else Path(f"/proc/{p}/comm").read_text().strip()
            found[name] = found.get(name, 0.0) + _cpu(p)
    return found


async def _partition(
    url: str, queue: int, prefix: str, phones_port: int, front: tuple[str, int]
) -> list[Operator]:
    """AGENTS agents of the queue's partition, each with a phone registered (at ``front``) for
    the sipp UAS on ``phones_port``, logged in and READY."""
    async with httpx.AsyncClient(base_url=url, headers=ADMIN) as api:
        partition = (await api.get(f"/api/queues/{queue}")).json()["partition"]
        r = await api.patch(f"/api/queues/{queue}", json={"wrapup": 0})
        assert r.status_code == 200, r.text
        for i in range(AGENTS):
            name = f"{prefix}{i:02d}"
            ext = f"{5 if prefix == 'n' else 4}{i:03d}"
            r = await api.post(
                "/api/lines", json={"identifier": name, "extension": ext, "secret": "s3cret"}
            )
            assert r.status_code == 201, r.text
            body = {"username": name, "password": "bench-pass", "partition": partition}
            body |= {"memberships": [{"queue": queue}], "lines": [r.json()["id"]]}
            r = await api.post("/api/agents", json=body)
            assert r.status_code == 201, r.text
    return [await _agent(url, f"{prefix}{i:02d}", phones_port, front) for i in range(AGENTS)]


async def _agent(url: str, name: str, phones_port: int, front: tuple[str, int]) -> Operator:
    phone = await Peer(name, front, contact_port=phones_port).open()
    try:
        async with asyncio.timeout(60):
            while (await phone.register("s3cret")).code != 200:  # noqa: ASYNC110 (a retry)
                await asyncio.sleep(0.5)
    finally:
        phone.close()
    op = Operator(url)
    await op.__aenter__()
    async with asyncio.timeout(60):  # a node of another partition's directory change: 1 s
        while True:
            try:
                await op.login(name, "bench-pass")
                break
            except Exception:
                await asyncio.sleep(0.5)
    await op.select_identifier(name)
    await op.provision()
    await op.change_status("READY")
    return op


async def _sipp(*args: str, cwd: Path, log: str) -> asyncio.subprocess.Process:
    assert SIPP is not None
    with (cwd / log).open("wb") as out:
        return await asyncio.create_subprocess_exec(
            SIPP, *args, cwd=cwd, stdin=asyncio.subprocess.DEVNULL, stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip


def _ms(text: str) -> float:
    """sipp's ``HH:MM:SS:uuuuuu`` in milliseconds."""
    h, m, s, us = (int(x) for x in text.split(":"))
    return round(((h * 60 + m) * 60 + s) * 1000 + us / 1000, 1)


def _scenario_file(cwd: Path) -> Path:
    """sipp's own ``uac`` with the number from the injection file (``[field0]``) and the
    route set of the 200 kept for the ACK and the BYE (through Kamailio: its Record-Route)."""
    import subprocess

    assert SIPP is not None
    # sipp -sd prints the scenario and exits 99
    xml = subprocess.run([SIPP, "-sd", "uac"], capture_output=True, text=True, check=False).stdout
    assert "<scenario" in xml, xml
    # the node's Contact is "Anonymous <sip:…>", which sipp's [next_url] keeps whole
    contact = (
        '<recv response="200" rtd="true" rrs="true"><action>'
        '<ereg regexp="sip:[^&gt;]*" search_in="hdr" header="Contact:" '
        'check_it="true" assign_to="contact"/></action>'
    )
    xml = xml.replace('<recv response="200" rtd="true">', contact)
    for method in ("ACK", "BYE"):
        xml = xml.replace(
            f"{method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0",
            f"{method} [$contact] SIP/2.0\n      [routes]",
        )
    xml = xml.replace("[service]", "[field0]")
    path = cwd / "uac.xml"
    path.write_text(xml)
    return path


async def _level(
    rate: int, numbers: list[str], where: tuple[str, int], trunk_port: int, cwd: Path, tag: str
) -> dict[str, Any]:
    """``rate`` calls/s for SECONDS from one sipp on ``trunk_port``, to ``numbers`` in turn."""
    scenario = _scenario_file(cwd)
    (cwd / "numbers.csv").write_text("SEQUENTIAL\n" + "".join(f"{n};\n" for n in numbers))
    calls = rate * SECONDS
    host, port = where
    proc = await _sipp(
        "-sf", str(scenario), "-inf", str(cwd / "numbers.csv"), f"{host}:{port}",
        "-i", "127.0.0.1", "-p", str(trunk_port), "-r", str(rate), "-m", str(calls),
        "-l", str(calls), "-d", "0", "-nostdin", "-recv_timeout", "20000", "-timeout", "90s",
        "-timeout_error", "-trace_stat", "-stf", f"{tag}-{rate}.csv", "-fd", "1",
        "-trace_err", "-error_file", f"{tag}-{rate}-errors.log",
        cwd=cwd, log=f"{tag}-{rate}.log",
    )  # fmt: skip
    await proc.wait()
    with (cwd / f"{tag}-{rate}.csv").open() as f:
        last = list(csv.DictReader(f, delimiter=";"))[-1]
    return {
        "rate": rate,
        "calls": calls,
        "ok": int(last["SuccessfulCall(C)"]),
        "failed": int(last["FailedCall(C)"]),
        "invite_to_200_ms": _ms(last["ResponseTime1(C)"]),
    }


@contextlib.contextmanager
def _database() -> Iterator[str]:
    from sqlalchemy import create_engine, text

    base = os.environ.get("UCS_BENCH_POSTGRES_URL") or os.environ.get("UCS_TEST_POSTGRES_URL")
    if not base:
        sys.exit("UCS_BENCH_POSTGRES_URL is not set")
    name = f"ucs_bench_{os.getpid()}"
    admin = create_engine(
        base.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base.rpartition('/')[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.asynccontextmanager
async def _nodes(
    db: str, tmp: Path, names: str, trunk: str, proxy: str
) -> AsyncIterator[dict[str, tuple[Node, int]]]:
    nodes: dict[str, tuple[Node, int]] = {}
    try:
        for name in names:
            sip = free_udp_port()
            args = ["--switch", "sip", "--sip-port", str(sip), "--sip-trunk", trunk]
            args += ["--shed-lag", "0"]  # the set-up's requests are not what is measured
            args += ["--sip-proxy", proxy] if proxy else []
            node = Node(db, name, tmp / f"{name}.log", *args)
            nodes[name] = (node, sip)
            await node.wait_serving()
            if name == "a" and len(names) > 1:  # north, for b to run
                async with httpx.AsyncClient(base_url=node.url, headers=ADMIN) as api:
                    r = await api.post(
                        "/api/queues", json={"name": "North", "partition": "north", "number": "300"}
                    )
                    assert r.status_code == 201, r.text
        yield nodes
    finally:
        for node, _ in nodes.values():
            node.stop()


async def _scenario(tag: str, tmp: Path) -> list[dict[str, Any]]:
    phones_port, trunk_port = free_udp_port(), free_udp_port()
    front, trunk_side = free_udp_port(), free_udp_port()
    behind = tag == "kamailio"
    rows: list[dict[str, Any]] = []
    phones = await _sipp("-sn", "uas", "-i", "127.0.0.1", "-p", str(phones_port), "-nostdin",
                         cwd=tmp, log=f"{tag}-phones.log")  # fmt: skip
    try:
        with _database() as db:
            if behind:
                trunk, proxy = f"127.0.0.1:{trunk_side}", f"127.0.0.1:{front}"
            else:
                trunk, proxy = f"127.0.0.1:{trunk_port}", ""
            async with _nodes(db, tmp, "ab" if behind else "a", trunk, proxy) as nodes:
                a, sip_a = nodes["a"]
                edge: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
                if behind:
                    sips = [("127.0.0.1", s) for _, s in nodes.values()]
                    edge = kamailio(sips, ("127.0.0.1", trunk_port), front, trunk_side, tmp)
                with edge:
                    where = ("127.0.0.1", front if behind else sip_a)
                    ops = await _partition(a.url, 1, "m", phones_port, where)
                    if behind:
                        ops += await _partition(nodes["b"][0].url, 4, "n", phones_port, where)
                        numbers = ["100", "300"]
                    else:
                        ops += await _partition(a.url, 2, "n", phones_port, where)
                        numbers = ["100", "200"]
                    pids = [n.proc.pid for n, _ in nodes.values()]
                    kam = _kamailio_pid(tmp) if behind else None
                    for rate in LEVELS:
                        before = [_cpu_by_process(p) for p in pids]
                        kbefore = _cpu_tree(kam) if kam else 0.0
                        row = await _level(rate, numbers, where, trunk_port, tmp, tag)
                        used: dict[str, float] = {}
                        for p, was in zip(pids, before, strict=True):
                            for name, now in _cpu_by_process(p).items():
                                used[name] = used.get(name, 0.0) + now - was.get(name, 0.0)
                        row["node_cpu_s"] = [
                            round(_cpu_tree(p) - sum(x.values()), 2)
                            for p, x in zip(pids, before, strict=True)
                        ]
                        calls = max(1, row["ok"])
                        engines = sum(v for k, v in used.items() if k in ENGINES)
                        row["ms_per_call"] = {
                            "ucs": round(used.get("self", 0.0) * 1000 / calls, 1),
                            "engines": round(engines * 1000 / calls, 1),
                            "committer": round(used.get("python", 0.0) * 1000 / calls, 1),
                        }
                        row["kamailio_cpu_s"] = round(_cpu_tree(kam) - kbefore, 2) if kam else None
                        print(tag, row, flush=True)
                        rows.append(row)
                    for op in ops:
                        with contextlib.suppress(Exception):
                            await op.__aexit__(None, None, None)
    finally:
        phones.terminate()
        await phones.wait()
    return rows


def _kamailio_pid(tmp: Path) -> int:
    return int((tmp / "kamailio.pid").read_text().split()[0])


async def main() -> None:
    if SIPP is None or not KAMAILIO:
        sys.exit("sipp or kamailio is missing (make sip-peers sip-proxy)")
    results: dict[str, Any] = {"machine": machine()}
    for tag in os.environ.get("BENCH_SIP_SETUPS", "one,kamailio").split(","):
        tmp = tempfile.mkdtemp(prefix=f"ucs-bench-sip-{tag}-")  # kept: sipp's logs, the nodes'
        print(f"{tag}: logs in {tmp}", flush=True)
        results[tag] = await _scenario(tag, Path(tmp))
    m = results["machine"]
    m["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    echo = await asyncio.to_thread(
        run_baseline, Config.from_env(), mp.get_context("spawn"), 40_000, 100
    )
    m["echo_msgs_per_s"] = echo["msgs_per_s"]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sip_cluster.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# SIP: one node vs Kamailio in front of two",
        "",
        f"{m['date']}, {m['cores']} cores, commit {m['commit']}, load average "
        f"{m['load_avg_at_start']} at start and {m['load_avg_at_end']} at the end; echo "
        f"baseline {m['echo_msgs_per_s']:,.0f} msgs/s (after the runs).",
        "",
        "| setup | calls/s | calls | ok | failed | INVITE→200 ms (sipp, mean) | node CPU s "
        "| ms a call: ucs, engines, committer | Kamailio CPU s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for tag, rows in results.items():
        if tag == "machine":
            continue
        for r in rows:
            each = r["ms_per_call"]
            lines.append(
                f"| {tag} | {r['rate']} | {r['calls']} | {r['ok']} | {r['failed']} | "
                f"{r['invite_to_200_ms']} | {' + '.join(map(str, r['node_cpu_s']))} | "
                f"{each['ucs']}, {each['engines']}, {each['committer']} | "
                f"{r['kamailio_cpu_s'] if r['kamailio_cpu_s'] is not None else '-'} |"
            )
    (RESULTS / "sip_cluster.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main())
