"""SIP in a cluster (CONTRACT §13, docs/deploy.md "SIP in a cluster"): deploy/kamailio.cfg as
shipped (its addresses given as defines) in front of three ``ucs serve --cluster --switch sip``
nodes on one PostgreSQL: ``a`` runs ``main``, ``b`` runs ``north``, ``c`` is a standby. Phones
of both partitions register through Kamailio (a password guesser behind it is shut out, not
Kamailio) and the trunk calls through it; each call rings
its partition's agent; a blind transfer from ``main`` to ``north``'s queue becomes an outside
call from a to b whose record names the first call (``transferred_from``); after a kill -9 of
b, c takes ``north`` over, the phone's registration refreshed through Kamailio reaches c, and
so does the next call. Skipped without PostgreSQL (``UCS_TEST_POSTGRES_URL``) or kamailio."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cluster import ADMIN, PATIENCE, Node, kamailio
from tests.helpers import POSTGRES
from tests.sip.baresip import BARESIP, Baresip
from tests.sip.helpers import agent, next_call, reinvited
from tests.sip.peer import Dialog, Msg, Peer, free_udp_port
from ucs.client import Operator
from ucs.client.operator import EventStream
from ucs.switch.sip.guard import FAILURE_LIMIT

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(POSTGRES is None, reason="UCS_TEST_POSTGRES_URL is not set"),
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _registered(phone: Peer, password: str) -> None:
    """REGISTER through Kamailio until a node says 200, as a phone tries again: a node that
    just died is only found out by its silence (no answer, or Kamailio's 408 when its own
    transaction to that node timed out first), and while a take-over is under way no node
    runs the partition (500: Kamailio's word for the nodes' 503)."""
    async with asyncio.timeout(PATIENCE):
        while True:
            try:
                answer = await phone.register(password)
            except TimeoutError:
                continue
            if answer.code in (408, 500):
                await asyncio.sleep(0.5)
                continue
            assert answer.code == 200, str(answer)
            return


async def _rung(trunk: Peer, number: str, phone: Peer) -> tuple[Dialog, Msg, Msg]:
    """The trunk calls ``number`` through Kamailio; the phone it rings says 180, which the
    trunk hears. The trunk's dialog and INVITE, and the phone's."""
    d = trunk.dialog_to(number)
    invite = trunk.invite(d)
    ring = await phone.expect("INVITE", wait=PATIENCE)
    phone.respond(ring, 180)
    assert (await trunk.expect(180, wait=PATIENCE)).code == 180
    return d, invite, ring


async def _answered(trunk: Peer, phone1: Peer, events: EventStream) -> tuple[Dialog, str]:
    """The trunk calls main's queue (100) and agent1's phone1 answers: the trunk's dialog and
    the call's uniqueid."""
    d, _invite, ring = await _rung(trunk, "100", phone1)
    phone1.respond(ring, 200, body=phone1.sdp)
    await phone1.expect("ACK", wait=PATIENCE)
    trunk.ack(await trunk.expect(200, wait=PATIENCE), d)
    uid: str = (await next_call(events, "connect")).call["uniqueid"]
    return d, uid


async def _cancelled(trunk: Peer, d: Dialog, invite: Msg, phone: Peer, ring: Msg) -> None:
    trunk.cancel(d, invite.get("via") or "")
    cancel = await phone.expect("CANCEL", wait=PATIENCE)
    phone.respond(cancel, 200)
    phone.respond(ring, 487)
    await phone.expect("ACK", wait=PATIENCE)
    refused = await trunk.expect(487, wait=PATIENCE)
    trunk._ack_failure(refused, d)


@pytest.fixture
async def peers() -> AsyncIterator[dict[str, Any]]:
    front, trunk_side = free_udp_port(), free_udp_port()
    trunk = Peer("trunk", ("127.0.0.1", front))
    phones = {n: Peer(n, ("127.0.0.1", front)) for n in ("phone1", "phone5")}
    for p in (trunk, *phones.values()):
        await p.open()
    yield {"front": front, "trunk_side": trunk_side, "trunk": trunk, **phones}
    for p in (trunk, *phones.values()):
        p.close()


@dataclass
class Cluster:
    nodes: list[Node]
    north: int
    """North's queue (id)."""


@contextlib.asynccontextmanager
async def _cluster(
    db: str, tmp_path: Path, peers: dict[str, Any], names: str
) -> AsyncIterator[Cluster]:
    """Nodes ``names`` (``a`` runs main, ``b`` north, ``c`` waits) with the SIP switch, and
    Kamailio in front; north has queue 300, agent nina and her phone5 (1005)."""
    sip_ports = {name: free_udp_port() for name in names}

    def node(name: str) -> Node:
        sip = ["--switch", "sip", "--sip-port", str(sip_ports[name])]
        sip += ["--sip-trunk", f"127.0.0.1:{peers['trunk_side']}"]
        sip += ["--sip-proxy", f"127.0.0.1:{peers['front']}"]
        return Node(db, name, tmp_path / f"{name}.log", *sip)

    nodes = [node("a")]
    try:
        assert (await nodes[0].wait_serving())["partition"] == "main"
        async with httpx.AsyncClient(base_url=nodes[0].url, headers=ADMIN) as http:
            q = await http.post(
                "/api/queues", json={"name": "North", "partition": "north", "number": "300"}
            )
            line = await http.post(
                "/api/lines",
                json={"identifier": "phone5", "extension": "1005", "secret": "phone5-secret"},
            )
            assert (q.status_code, line.status_code) == (201, 201), (q.text, line.text)
            body: dict[str, Any] = {
                "username": "nina",
                "password": "nina-pass",
                "partition": "north",
            }
            body |= {"memberships": [{"queue": q.json()["id"]}], "lines": [line.json()["id"]]}
            a = await http.post("/api/agents", json=body)
            assert a.status_code == 201, a.text
        nodes.append(node("b"))
        assert (await nodes[1].wait_serving())["partition"] == "north"
        if "c" in names:
            nodes.append(node("c"))
            await nodes[2].wait_log("partition 'north' is run by node b (epoch 1)")
        addresses = [("127.0.0.1", p) for p in sip_ports.values()]
        trunk = ("127.0.0.1", peers["trunk"].port)
        with kamailio(addresses, trunk, peers["front"], peers["trunk_side"], tmp_path):
            yield Cluster(nodes, q.json()["id"])
    finally:
        for n in nodes:
            n.stop()


async def test_kamailio_routes_each_partition_to_its_node_and_follows_a_take_over(
    cluster_db: str, tmp_path: Path, peers: dict[str, Any]
) -> None:
    trunk: Peer = peers["trunk"]
    phone1: Peer = peers["phone1"]
    phone5: Peer = peers["phone5"]
    ops: list[Operator] = []
    async with _cluster(cluster_db, tmp_path, peers, "abc") as cluster:
        nodes = cluster.nodes
        try:
            # Each phone registers through the one address, whichever node Kamailio tries.
            await _registered(phone1, "phone1-secret")
            await _registered(phone5, "phone5-secret")
            # Someone guessing phone1's password through Kamailio is shut out, not Kamailio.
            intruder = await Peer("phone1", phone1.server, host="127.0.0.2").open()
            try:
                for _ in range(FAILURE_LIMIT):
                    assert (await intruder.register("guess")).code == 401
                assert (await intruder.register("guess")).code == 403
            finally:
                intruder.close()
            await _registered(phone1, "phone1-secret")
            ops.append(await agent(nodes[0].url, "agent1", "phone1"))
            ops.append(await agent(nodes[1].url, "nina", "phone5"))
            events = ops[0].events()

            # The trunk calls main's queue (100): a rings agent1's phone, which answers.
            d1, _invite, ring = await _rung(trunk, "100", phone1)
            ringing = await next_call(events, "ringing")
            first = ringing.call["uniqueid"]
            phone1.respond(ring, 200, body=phone1.sdp)
            await phone1.expect("ACK", wait=PATIENCE)
            ok = await trunk.expect(200, wait=PATIENCE)
            trunk.ack(ok, d1)
            await next_call(events, "connect")

            # north's queue (300): b rings nina's phone; the trunk gives up.
            d2, invite2, ring2 = await _rung(trunk, "300", phone5)
            await _cancelled(trunk, d2, invite2, phone5, ring2)

            # agent1 sends the caller to north's queue: an outside call from a to b.
            await ops[0].blind_transfer("300")
            bye = await phone1.expect("BYE", wait=PATIENCE)
            phone1.respond(bye, 200)
            offered = await phone5.expect("INVITE", wait=PATIENCE)
            assert offered.get("x-ucs-uniqueid") is not None  # b's own uniqueid for its leg
            phone5.respond(offered, 200, body=phone5.sdp)
            await phone5.expect("ACK", wait=PATIENCE)
            rebridge = await trunk.expect("INVITE", wait=PATIENCE)  # the caller hears nina
            trunk.respond(rebridge, 200, body=trunk.sdp)
            await trunk.expect("ACK", wait=PATIENCE)
            trunk.bye(d1)
            gone = await phone5.expect("BYE", wait=PATIENCE)
            phone5.respond(gone, 200)
            stats = (await ops[0].state())["user"]
            assert (stats["transferred"], stats["transferred_external"]) == (0, 1)
            records = await _records(nodes[0].url, first)
            assert [r["called_number"] for r in records] == ["100", "300"], records
            assert records[1]["data"] == {"transferred_from": first}
            assert records[1]["uniqueid"].startswith("north-")

            # b dies; c takes north over; the phone's next REGISTER and the next call reach c.
            nodes[1].proc.send_signal(signal.SIGKILL)
            health = await nodes[2].wait_serving()
            assert (health["partition"], health["epoch"]) == ("north", 2)
            await _registered(phone5, "phone5-secret")
            d3, invite3, ring3 = await _rung(trunk, "300", phone5)
            await _cancelled(trunk, d3, invite3, phone5, ring3)
        finally:
            for op in ops:
                await op.__aexit__(None, None, None)


async def test_an_attended_transfer_to_another_partition_reaches_a_real_phone_there(
    cluster_db: str, tmp_path: Path, peers: dict[str, Any]
) -> None:
    """agent1 (main, node a) consults north's queue 300 and joins the caller to it: the
    consultation is an outside call from a to b, where Debian's baresip, nina's phone5
    registered through Kamailio, takes it; b's record names the consultation."""
    if BARESIP is None:
        pytest.skip("baresip is not installed (make sip-peers)")
    trunk: Peer = peers["trunk"]
    phone1: Peer = peers["phone1"]
    ops: list[Operator] = []
    async with _cluster(cluster_db, tmp_path, peers, "ab") as cluster:
        nodes = cluster.nodes
        front = ("127.0.0.1", peers["front"])
        phone5 = Baresip(tmp_path / "baresip", "phone5", "phone5-secret", front)
        await phone5.start()
        try:
            await _registered(phone1, "phone1-secret")
            async with asyncio.timeout(PATIENCE):  # its REGISTER, through Kamailio, to b
                while "OK" not in str((await phone5.command("reginfo")).get("data")):  # noqa: ASYNC110 (no event: its REGISTER may beat our connection)
                    await asyncio.sleep(0.2)
            ops.append(await agent(nodes[0].url, "agent1", "phone1"))
            ops.append(await agent(nodes[1].url, "nina", "phone5"))
            op, events = ops[0], ops[0].events()
            d, uid = await _answered(trunk, phone1, events)

            assert (await op.transfer())["state"] == 4
            await reinvited(trunk, "sendonly", PATIENCE)
            await reinvited(phone1, "inactive", PATIENCE)
            await op.dial("300")
            first = await phone1.expect("INVITE", wait=PATIENCE)
            assert "answer-after=0" in (first.get("call-info") or "")
            phone1.respond(first, 200, body=phone1.sdp)
            incoming = await phone5.event("CALL_INCOMING", wait=PATIENCE)
            assert incoming["peeruri"].startswith("sip:1001@")  # agent1 consults
            assert (await phone5.command("accept"))["ok"]
            await phone1.expect("ACK", wait=PATIENCE)
            consult = await next_call(events, "connect")
            assert consult.call["uniqueid"] != uid

            await op.finish_transfer()
            for _ in range(2):  # agent1's phone leaves both calls
                bye = await phone1.expect("BYE", wait=PATIENCE)
                phone1.respond(bye, 200)
            await reinvited(trunk, "sendrecv", PATIENCE)  # the caller now hears nina
            await phone5.event("CALL_ESTABLISHED", wait=PATIENCE)
            trunk.bye(d)
            await phone5.event("CALL_CLOSED", wait=PATIENCE)
            stats = (await op.state())["user"]
            assert (stats["transferred"], stats["transferred_external"]) == (0, 1)
            records = await _records(nodes[0].url, consult.call["uniqueid"])
            assert records[1]["called_number"] == "300"
            assert records[1]["data"] == {"transferred_from": consult.call["uniqueid"]}
        finally:
            for o in ops:
                await o.__aexit__(None, None, None)
            await phone5.stop()


async def test_transfers_to_a_phone_of_another_partition_ring_it_at_its_node(
    cluster_db: str, tmp_path: Path, peers: dict[str, Any]
) -> None:
    """agent1 (main, node a) sends a caller to 1005, the extension of nina's phone5 (north,
    registered at node b), blind, then another caller attended: a places each as an outside
    call to b, which rings phone5 with nina's component showing the call's link to a's
    (``transferred_from``: the caller's call, then the consultation)."""
    trunk: Peer = peers["trunk"]
    phone1: Peer = peers["phone1"]
    phone5: Peer = peers["phone5"]
    ops: list[Operator] = []
    async with _cluster(cluster_db, tmp_path, peers, "ab") as cluster:
        nodes = cluster.nodes
        try:
            await _registered(phone1, "phone1-secret")
            await _registered(phone5, "phone5-secret")
            ops.append(await agent(nodes[0].url, "agent1", "phone1"))
            ops.append(await agent(nodes[1].url, "nina", "phone5"))
            op, events, ninas = ops[0], ops[0].events(), ops[1].events()

            # Blind: the caller of main's queue goes to 1005, rung by b.
            d1, first = await _answered(trunk, phone1, events)
            await op.blind_transfer("1005")
            bye = await phone1.expect("BYE", wait=PATIENCE)
            phone1.respond(bye, 200)
            offered = await phone5.expect("INVITE", wait=PATIENCE)
            theirs = str(offered.get("x-ucs-uniqueid"))
            assert theirs.startswith("north-")  # b's call rings it, not a's
            rung = await next_call(ninas, "ringing")
            assert rung.call["uniqueid"] == theirs
            assert rung.call["data"] == {"transferred_from": first}
            phone5.respond(offered, 200, body=phone5.sdp)
            await phone5.expect("ACK", wait=PATIENCE)
            rebridge = await trunk.expect("INVITE", wait=PATIENCE)  # the caller hears nina
            trunk.respond(rebridge, 200, body=trunk.sdp)
            await trunk.expect("ACK", wait=PATIENCE)
            trunk.bye(d1)
            gone = await phone5.expect("BYE", wait=PATIENCE)
            phone5.respond(gone, 200)
            stats = (await op.state())["user"]
            assert (stats["transferred"], stats["transferred_external"]) == (0, 1)
            records = await _records(nodes[0].url, first)
            assert [r["called_number"] for r in records] == ["100", "1005"], records
            assert records[1]["uniqueid"] == theirs

            # Attended: agent1 consults 1005 (answered at b), then joins the caller to it.
            await ops[0].change_status("READY")
            d2, second = await _answered(trunk, phone1, events)
            await op.transfer()
            await reinvited(trunk, "sendonly", PATIENCE)
            await reinvited(phone1, "inactive", PATIENCE)
            await op.dial("1005")
            pick = await phone1.expect("INVITE", wait=PATIENCE)
            phone1.respond(pick, 200, body=phone1.sdp)  # ACKed once 1005 answers
            consulted = await phone5.expect("INVITE", wait=PATIENCE)
            assert "1001" in (consulted.get("from") or "")  # agent1 consults
            phone5.respond(consulted, 200, body=phone5.sdp)
            await phone5.expect("ACK", wait=PATIENCE)
            await phone1.expect("ACK", wait=PATIENCE)
            consult = (await next_call(events, "connect")).call["uniqueid"]
            await op.finish_transfer()
            for _ in range(2):  # agent1's phone leaves both calls
                bye = await phone1.expect("BYE", wait=PATIENCE)
                phone1.respond(bye, 200)
            await reinvited(trunk, "sendrecv", PATIENCE)  # the caller now hears nina
            joined = await phone5.expect("INVITE", wait=PATIENCE)  # with the caller's audio
            phone5.respond(joined, 200, body=phone5.sdp)
            await phone5.expect("ACK", wait=PATIENCE)
            trunk.bye(d2)
            gone = await phone5.expect("BYE", wait=PATIENCE)
            phone5.respond(gone, 200)
            stats = (await op.state())["user"]
            assert (stats["transferred"], stats["transferred_external"]) == (0, 2)
            # The records chain: the caller's call, the consultation, b's call to phone5.
            records = await _records(nodes[0].url, second)
            assert [r["uniqueid"] for r in records] == [second, consult], records
            records = await _records(nodes[0].url, consult)
            assert records[1]["called_number"] == "1005"
            assert records[1]["uniqueid"].startswith("north-")
        finally:
            for o in ops:
                await o.__aexit__(None, None, None)


async def _records(url: str, first: str) -> list[dict[str, Any]]:
    """The call records of ``first`` and of the calls that continue it, once written."""
    async with asyncio.timeout(PATIENCE), httpx.AsyncClient(base_url=url, headers=ADMIN) as http:
        while True:
            rows = (await http.get("/api/cdr")).json()
            mine = [r for r in rows if r["uniqueid"] == first]
            linked = [r for r in rows if r.get("data", {}).get("transferred_from") == first]
            if mine and linked:
                return mine + linked
            await asyncio.sleep(0.2)
