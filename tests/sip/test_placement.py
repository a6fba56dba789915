"""Which node of a cluster a SIP request is for (``placement.py``): the partitions of phones and
numbers, the owners' addresses as the lease table says (kept half a second), and the answer a
node gives a request that is another node's."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sippy.Network_server import Remote_address
from sippy.SipHeader import SipHeader
from sippy.SipRequest import SipRequest

from ucs.core.directory import (
    AgentConfig,
    Directory,
    LineConfig,
    QueueConfig,
    QueueType,
    Strategy,
)
from ucs.core.ids import AgentId, LineId, QueueId
from ucs.demo import demo_directory
from ucs.switch.sip.phones import Phones
from ucs.switch.sip.placement import Placement, redirect

TRUNK = ("127.0.0.1", 5059)
A, B = ("127.0.0.1", 5071), ("127.0.0.1", 5072)


def _catalog() -> Directory:
    """The demo's (partition ``main``) and ``north``: queue 300, nina with phone5 (1005)."""
    demo = demo_directory()
    north = QueueConfig(
        QueueId(9), "North", QueueType.INCOMING, Strategy.RING_ALL, 15.0, 0.0, number="300"
    )
    north = replace(north, partition="north")
    nina = AgentConfig(AgentId(9), "nina", lines=(LineId(5),), partition="north")
    lines = {**demo.lines, LineId(5): LineConfig(LineId(5), "phone5", "1005")}
    lines[LineId(6)] = LineConfig(LineId(6), "phone6", "1006")  # nobody's own: main's
    return replace(
        demo,
        agents={**demo.agents, nina.id: nina},
        lines=lines,
        queues={**demo.queues, north.id: north},
    )


class Owners:
    def __init__(self) -> None:
        self.rows = {"main": "127.0.0.1:5071", "north": "127.0.0.1:5072"}
        self.asked = 0
        self.down = False

    def __call__(self) -> dict[str, str]:
        self.asked += 1
        if self.down:
            raise OSError("the database is away")
        return dict(self.rows)


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def owners() -> Owners:
    return Owners()


def _placement(owners: Owners, clock: Clock, partition: str = "main") -> Placement:
    catalog = _catalog()
    return Placement(partition, lambda: catalog, owners, clock=clock)


def test_phones_and_numbers_belong_to_their_agents_and_queues_partitions(owners: Owners) -> None:
    p = _placement(owners, Clock())
    assert [p.of_phone(f"phone{i}") for i in (1, 4, 5, 6)] == ["main", "main", "north", "main"]
    assert p.of_phone("phone99") is None
    assert [p.of_number(n) for n in ("100", "200", "300", "1001", "1005")] == [
        "main",
        "main",
        "north",
        "main",
        "north",
    ]
    assert p.of_number("777555444") is None  # an outside number
    assert (p.elsewhere("north"), p.elsewhere("main"), p.elsewhere(None)) == (True, False, False)
    # where a call to a number goes: north's node, or not elsewhere at all
    assert p.node_for("300") == (B, "north") and p.node_for("1005") == (B, "north")
    assert (p.node_for("100"), p.node_for("777555444")) == (None, None)


def test_owners_are_read_at_most_every_half_second_and_kept_while_the_database_is_away(
    owners: Owners,
) -> None:
    clock = Clock()
    p = _placement(owners, clock)
    assert (p.owner("north"), p.owner("main"), p.owner("south")) == (B, A, None)
    assert owners.asked == 1
    owners.rows["north"] = "127.0.0.1:5073"  # a take-over
    clock.now += 0.4
    assert p.owner("north") == B and owners.asked == 1
    clock.now += 0.1
    assert p.owner("north") == ("127.0.0.1", 5073) and owners.asked == 2
    owners.down = True
    clock.now += 1
    assert p.owner("north") == ("127.0.0.1", 5073)  # as last read
    assert p.is_node(("127.0.0.1", 5073)) and not p.is_node(A)  # this node is not "another"


def _request(method: str, ruri: str, user: str, source: tuple[str, int]) -> Any:
    text = (
        f"{method} {ruri} SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
        f"From: <sip:{user}@127.0.0.1>;tag=1\r\nTo: <sip:{user}@127.0.0.1>\r\n"
        f"Call-ID: x@y\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
    )
    req = SipRequest(text)
    req.setSource(Remote_address(source, "udp"))
    return req


def test_another_partitions_requests_are_redirected_to_its_owner(owners: Owners) -> None:
    p = _placement(owners, Clock())
    phone = ("127.0.0.1", 40000)
    register = redirect(p, _request("REGISTER", "sip:127.0.0.1", "phone5", phone), TRUNK)
    assert register.scode == 302
    assert str(register.getHFBody("contact")) == "<sip:phone5@127.0.0.1:5072>"
    # the trunk's call to north's queue; a phone of north calls out
    trunk = redirect(p, _request("INVITE", "sip:300@127.0.0.1", "caller", TRUNK), TRUNK)
    assert str(trunk.getHFBody("contact")) == "<sip:300@127.0.0.1:5072>"
    own = redirect(p, _request("INVITE", "sip:100@127.0.0.1", "phone5", phone), TRUNK)
    assert str(own.getHFBody("contact")) == "<sip:100@127.0.0.1:5072>"
    # main's: served here (a phone of main calling north's queue places the call itself)
    for req in (
        _request("REGISTER", "sip:127.0.0.1", "phone1", phone),
        _request("INVITE", "sip:300@127.0.0.1", "phone1", phone),
        _request("INVITE", "sip:100@127.0.0.1", "caller", TRUNK),
        _request("INVITE", "sip:777555444@127.0.0.1", "caller", TRUNK),
        _request("OPTIONS", "sip:127.0.0.1", "probe", phone),
    ):
        assert redirect(p, req, TRUNK) is None


def test_a_partition_no_node_runs_is_503_with_retry_after(owners: Owners) -> None:
    del owners.rows["north"]
    p = _placement(owners, Clock())
    req = _request("INVITE", "sip:300@127.0.0.1", "caller", TRUNK)
    answer = redirect(p, req, TRUNK)
    assert answer.scode == 503
    assert str(answer.getHFBody("retry-after")) == "1"


def test_behind_the_proxy_a_request_comes_from_where_its_x_ucs_source_says() -> None:
    proxy = ("127.0.0.1", 5060)
    phones = Phones(_catalog, lambda user: None, "ucs", proxies=frozenset({proxy}))
    req = _request("REGISTER", "sip:127.0.0.1", "phone1", proxy)
    assert phones.origin(req) == proxy  # no header: the proxy itself
    req.appendHeader(SipHeader(name="x-ucs-source", bodys="192.0.2.7:5062"))
    assert phones.origin(req) == ("192.0.2.7", 5062)
    req.setSource(Remote_address(("127.0.0.1", 5061), "udp"))  # not the proxy: not believed
    assert phones.origin(req) == ("127.0.0.1", 5061)
