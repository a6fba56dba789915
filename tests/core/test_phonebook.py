"""The transfer directory (``directory()``, issue 17 item 7): every other agent with status,
reason, the extension of their paired phone and whether they are on a call; the incoming
queues with their number and callers waiting."""

from __future__ import annotations

import pytest

from ucs.core.errors import InvalidState
from ucs.core.events import MediaStatus
from ucs.virtual import VirtualCenter


def test_the_directory_shows_colleagues_and_queues_as_they_are(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    a2 = vc.ready(2)
    vc.call(a2, "changeStatus", "AUX", "Lunch")
    vc.feed(MediaStatus(True))
    vc.agent_ready("agent3", "agent3-pass", "softphone")
    vc.caller(1)  # rings agent1 (agent2 is at lunch) and waits for an answer all the same
    vc.caller(1, "+420601000002")
    found = vc.call(a1, "directory")
    agents = {a["username"]: a for a in found["agents"]}
    assert "agent1" not in agents  # not oneself
    assert agents["agent2"] == {
        "id": 2,
        "username": "agent2",
        "displayname": "Bob Dvořák",
        "status": "AUX",
        "reason": "Lunch",
        "extension": "1002",
        "busy": False,
    }
    assert agents["agent3"]["extension"] is None  # the browser has no extension
    assert agents["agent3"]["status"] == "READY"
    assert agents["supervisor"]["status"] == "OFFLINE"
    assert agents["supervisor"]["extension"] is None  # not logged in
    assert found["queues"] == [
        {"id": 1, "name": "Support", "number": "100", "waiting": 2},
        {"id": 2, "name": "Sales", "number": "200", "waiting": 0},
    ]
    vc.call(a1, "answer")
    busy = {a["username"]: a["busy"] for a in vc.call(a2, "directory")["agents"]}
    assert busy["agent1"] is True and busy["agent3"] is False


def test_the_directory_is_for_agents_at_work(vc: VirtualCenter) -> None:
    client = vc.connect()
    with pytest.raises(InvalidState):
        vc.call(client, "directory")
    vc.call(client, "login", "agent1", "agent1-pass")
    with pytest.raises(InvalidState):
        vc.call(client, "directory")  # IDENTIFY: no phone yet
