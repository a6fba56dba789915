"""What waiting callers hear, as the core decides it (CONTRACT §10): the queue's greeting and
music on entering, then every ``announce_every`` seconds their place and, with
``announce_wait``, the expected wait; nothing once an agent answered; the softphone line."""

from __future__ import annotations

import dataclasses

import pytest

from tests.core.helpers import custom, member_of, queue_config
from ucs.core.directory import Strategy
from ucs.core.effects import Announce, Greet
from ucs.core.errors import MediaUnavailable
from ucs.core.events import MediaStatus
from ucs.core.ids import UniqueId
from ucs.virtual import VirtualCenter


def _center(**fields: object) -> VirtualCenter:
    q = dataclasses.replace(queue_config(1, Strategy.LONGEST_IDLE), **fields)
    return custom([q], {1: member_of(1), 2: member_of(1)})


def _announced(vc: VirtualCenter, uid: UniqueId) -> list[tuple[int, float | None]]:
    return [(e.place, e.wait) for e in vc.effects if isinstance(e, Announce) and e.uniqueid == uid]


def test_a_caller_hears_the_greeting_then_its_place_every_announce_every() -> None:
    vc = _center(greeting="welcome", music="music", announce_every=20.0, language="cs")
    first = vc.caller(1)
    second = vc.caller(1, "+420601000002")
    greets = [e for e in vc.effects if isinstance(e, Greet)]
    assert [g.uniqueid for g in greets] == [first, second]
    assert greets[0] == Greet(first, "welcome", "music", "cs")
    vc.advance(19)
    assert _announced(vc, second) == []
    vc.advance(1)
    assert _announced(vc, first) == [(1, None)] and _announced(vc, second) == [(2, None)]
    vc.caller_hangs_up(first)
    vc.advance(20)
    assert _announced(vc, second) == [(2, None), (1, None)]  # moved up
    assert _announced(vc, first) == [(1, None)]  # gone: no more


def test_the_expected_wait_comes_from_how_long_answered_callers_waited() -> None:
    vc = _center(announce_every=10.0, announce_wait=True)
    a1 = vc.ready(1)
    vc.call(a1, "changeStatus", "AUX", "Lunch")
    answered = vc.caller(1)
    vc.advance(10)
    assert _announced(vc, answered) == [(1, None)]  # nobody answered yet: no estimate
    vc.advance(20)  # waited 30 s
    vc.call(a1, "changeStatus", "READY")
    vc.call(a1, "answer")
    vc.advance(30)
    assert _announced(vc, answered) == [(1, None), (1, None), (1, None)]  # then answered
    vc.call(a1, "hangup")
    vc.call(a1, "changeStatus", "AUX", "Lunch")
    waiting = [vc.caller(1, f"+42060100000{i}") for i in range(2)]
    vc.advance(10)
    assert _announced(vc, waiting[0]) == [(1, 30.0)]
    assert _announced(vc, waiting[1]) == [(2, 60.0)]


def test_a_queue_without_sounds_plays_nothing() -> None:
    vc = _center()
    uid = vc.caller(1)
    vc.advance(120)
    assert not [e for e in vc.effects if isinstance(e, Greet | Announce)]
    assert uid in vc.center.calls


def test_the_softphone_needs_a_media_engine() -> None:
    vc = _center()
    client = vc.connect()
    vc.call(client, "login", "agent1", "agent1-pass")
    with pytest.raises(MediaUnavailable):
        vc.call(client, "selectIdentifier", "softphone")
    vc.feed(MediaStatus(True))
    assert vc.call(client, "selectIdentifier", "softphone")["line"] == -1
    state = vc.call(client, "provision")
    assert state["identifier"] == "softphone" and state["line"] == -1
    vc.call(client, "changeStatus", "READY")
    uid = vc.caller(1)
    vc.call(client, "answer")
    call = vc.center.calls[uid]
    assert call.connected_party is not None
    assert call.connected_party.channel == f"WebRTC/agent1-{int(uid.rsplit('.', 1)[1]):08x}"
    vc.feed(MediaStatus(False))
    vc.call(client, "hangup")
    vc.call(client, "identify")
    with pytest.raises(MediaUnavailable):
        vc.call(client, "selectIdentifier", "softphone")
