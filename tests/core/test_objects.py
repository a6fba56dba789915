"""Call, User and Queue objects carry exactly the document's fields, with the right types.

CONTRACT §6: exactly the fields of the document, with its names; timestamps are Unix seconds
(numbers), ``null`` until the moment happens; ``now`` is the server's clock; ``direction`` is
INCOMING/OUTGOING as each side sees the call; ``caller_type``/``connected_type`` are ``line`` or
``trunk``; ``id`` rotates in 1–65535 and ``uniqueid`` never repeats; numbers also in E.164.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ucs.core.events import TrunkCall
from ucs.core.ids import ClientId, QueueId, UniqueId
from ucs.core.model import CALL_FIELDS, QUEUE_FIELDS, STATE_FIELDS, USER_FIELDS, CallState
from ucs.virtual import VirtualCenter

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "000_dd6c94c098751615.txt"

_PARTY = (
    "channel extension group_id internal line_id muted name number number_norm type "
    "user_id username"
).split()

DOC_CALL_FIELDS = frozenset(
    [
        "called_name",
        "called_number",
        "called_number_norm",
        *(f"caller_{n}" for n in _PARTY),
        "cause",
        "connected",
        *(f"connected_{n}" for n in _PARTY if n != "extension"),
        "created",
        "data",
        "direction",
        "disconnected",
        "external_id",
        "id",
        "name",
        "now",
        "number",
        "outbound_id",
        "recorded",
        "state",
        "subcalls",
        "uniqueid",
    ]
)
"""The Call object of the document, written out by hand. The document lists
``caller_extension`` but no ``connected_extension``."""

DOC_USER_FIELDS = frozenset(
    """acwtime auxtime auxtimes data displayname email external_id firstname group_id id
    idletime in_calls_answered in_calls_unanswered in_ringtime in_talktime lastname lines
    locale number out_calls_answered out_calls_unanswered out_ringtime out_talktime
    primary_extension queues readytime ringtime status superuser talktime transferred
    transferred_external""".split()
)

DOC_QUEUE_FIELDS = frozenset(
    """answered priorities queue_id ringtime supervisor suspended suspendtime talktime team_id
    transferred transferred_external type unanswered""".split()
)

CONTRACT_STATE_FIELDS = frozenset(
    ["state", "user", "calls", "call", "identifier", "line", "ringingSound", "theme", "auxReasons"]
)

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


# --------------------------------------------------------------------------- the document

_TYPES = {"str", "int", "bool", "enum", "obj", "array", "timestamp", "string", "(string)"}


def _field_name(line: str) -> str | None:
    """The field a line of the document's object lists names, or None for other lines
    (enum values such as ``- line: telephone`` or ``- 0: new``).

    The translation spells fields several ways: ``- called_name: str - …``,
    ``- connected timestamp - …``, ``- obj data: …``, ``- id int - …``, ``- number: (string)``.
    Object-valued fields (``auxtimes``, ``queues``) describe their ``key`` and ``value``.
    """
    head = line[2:].split(" - ", 1)[0]
    name_part, _, type_part = head.partition(":")
    words = name_part.split()
    names = [w for w in words if w not in _TYPES]
    typed = [w for w in words if w in _TYPES]
    kind = typed[0] if typed else (type_part.split() or [""])[0]
    if kind not in _TYPES or len(names) != 1:
        return None
    name = names[0]
    if not re.fullmatch(r"[a-z][a-z_]*", name) or name in ("key", "value"):
        return None
    return name


def document_fields() -> dict[str, frozenset[str]]:
    """The field names of the Call, User and Queue objects as the seed document lists them."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for raw in SEED.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("Call (v"):
            current = "Call"
        elif line.startswith(("User {#obj-user}", "User (v")):
            current = "User"
        elif line.startswith("Queue (v"):
            current = "Queue"
        elif current is not None and line.startswith("- "):
            name = _field_name(line)
            if name is not None:
                sections.setdefault(current, []).append(name)
    for names in sections.values():
        assert len(names) == len(set(names)), names
    return {k: frozenset(v) for k, v in sections.items()}


def test_field_lists_of_the_model_are_the_documents() -> None:
    if not SEED.exists():
        pytest.skip(f"the seed document {SEED} is not here")
    doc = document_fields()
    assert set(doc) == {"Call", "User", "Queue"}
    assert doc["User"] == DOC_USER_FIELDS
    assert doc["Queue"] == DOC_QUEUE_FIELDS
    assert doc["Call"] == DOC_CALL_FIELDS
    assert sorted(USER_FIELDS ^ doc["User"]) == []
    assert sorted(QUEUE_FIELDS ^ doc["Queue"]) == []
    assert sorted(CALL_FIELDS ^ doc["Call"]) == []


def test_user_fields_are_exactly_the_documents() -> None:
    assert sorted(USER_FIELDS ^ DOC_USER_FIELDS) == []


def test_queue_fields_are_exactly_the_documents() -> None:
    assert sorted(QUEUE_FIELDS ^ DOC_QUEUE_FIELDS) == []


def test_call_fields_are_exactly_the_documents() -> None:
    assert sorted(CALL_FIELDS - DOC_CALL_FIELDS) == [], "fields the document does not have"
    assert sorted(DOC_CALL_FIELDS - CALL_FIELDS) == [], "fields of the document missing"


def test_state_fields_are_the_contracts() -> None:
    assert STATE_FIELDS == CONTRACT_STATE_FIELDS


# --------------------------------------------------------------------------- checks of objects


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _timestamp(x: object) -> bool:
    return x is None or _is_number(x)


def check_call(call: dict[str, Any]) -> None:
    """One Call object: exactly the fields, each of its type."""
    assert set(call) == CALL_FIELDS, sorted(set(call) ^ CALL_FIELDS)
    for key in ("created", "connected", "disconnected", "now"):
        assert _timestamp(call[key]), (key, call[key])
    assert _is_number(call["created"]) and _is_number(call["now"])
    assert call["created"] <= call["now"]
    if call["connected"] is not None:
        assert call["created"] <= call["connected"] <= call["now"]
    if call["disconnected"] is not None:
        assert call["created"] <= call["disconnected"] <= call["now"]
        if call["connected"] is not None:
            assert call["connected"] <= call["disconnected"]
    assert type(call["id"]) is int and 1 <= call["id"] <= 65535
    assert type(call["uniqueid"]) is str and call["uniqueid"]
    assert call["direction"] in ("INCOMING", "OUTGOING")
    assert type(call["state"]) is int and 0 <= call["state"] <= 5
    assert type(call["cause"]) is int and -1 <= call["cause"] <= 8
    assert (call["cause"] == -1) == (call["disconnected"] is None)
    assert type(call["subcalls"]) is int and call["subcalls"] >= 0
    assert type(call["recorded"]) is bool
    assert isinstance(call["data"], dict)
    assert call["outbound_id"] is None or type(call["outbound_id"]) is int
    assert isinstance(call["number"], str)
    assert isinstance(call["called_number"], str)
    assert call["caller_type"] in ("line", "trunk")
    if call["connected_type"] is None:  # nobody connected or ringing yet
        assert call["connected_number"] is None
        assert call["connected_user_id"] is None
    else:
        assert call["connected_type"] in ("line", "trunk")
    for side in ("caller", "connected"):
        assert type(call[f"{side}_internal"]) is bool
        assert type(call[f"{side}_muted"]) is bool
        if call[f"{side}_type"] is not None:
            assert call[f"{side}_internal"] == (call[f"{side}_type"] == "line")
        for key in ("line_id", "user_id", "group_id"):
            value = call[f"{side}_{key}"]
            assert value is None or type(value) is int, (side, key, value)
        for key in ("channel", "name", "number", "number_norm", "username"):
            value = call[f"{side}_{key}"]
            assert value is None or isinstance(value, str), (side, key, value)
    for key in ("caller_number_norm", "connected_number_norm", "called_number_norm"):
        assert call[key] is None or E164.match(call[key]), (key, call[key])
    if call["caller_type"] == "line":
        assert call["caller_line_id"] is not None
    if call["direction"] == "OUTGOING":
        assert call["number"] == call["called_number"]


def check_user(user: dict[str, Any], queues: set[int]) -> None:
    assert set(user) == USER_FIELDS, sorted(set(user) ^ USER_FIELDS)
    for key in USER_FIELDS - {
        "auxtimes",
        "data",
        "displayname",
        "email",
        "external_id",
        "firstname",
        "lastname",
        "lines",
        "locale",
        "number",
        "primary_extension",
        "queues",
        "status",
        "superuser",
        "group_id",
    }:
        assert type(user[key]) is int and user[key] >= 0, (key, user[key])
    assert user["status"] in ("OFFLINE", "READY", "AUX", "ACW")
    assert type(user["superuser"]) is bool
    assert isinstance(user["auxtimes"], dict)
    assert all(type(v) is int for v in user["auxtimes"].values())
    assert user["ringtime"] == user["in_ringtime"] + user["out_ringtime"]
    assert user["talktime"] == user["in_talktime"] + user["out_talktime"]
    assert isinstance(user["lines"], list)
    assert set(user["queues"]) == queues
    for qid, queue in user["queues"].items():
        assert set(queue) == QUEUE_FIELDS, sorted(set(queue) ^ QUEUE_FIELDS)
        assert queue["queue_id"] == qid
        assert queue["type"] in (0, 1)
        for key in ("answered", "unanswered", "ringtime", "talktime", "suspendtime"):
            assert type(queue[key]) is int and queue[key] >= 0
        for key in ("transferred", "transferred_external", "priorities"):
            assert type(queue[key]) is int
        assert type(queue["supervisor"]) is bool
        assert type(queue["suspended"]) is bool


class Watch:
    """Calls methods and checks every call message that follows at once: its ``now`` is the
    virtual clock."""

    def __init__(self, vc: VirtualCenter, clients: list[ClientId]) -> None:
        self.vc = vc
        self.clients = clients

    def __call__(self, client: ClientId, method: str, *args: Any) -> Any:
        marks = {c: len(self.vc.inbox.get(c, [])) for c in self.clients}
        result = self.vc.call(client, method, *args)
        for c in self.clients:
            for kind, body in self.vc.inbox.get(c, [])[marks[c] :]:
                if kind == "call.changed":
                    assert body["call"]["now"] == self.vc.now
                    check_call(body["call"])
        state = self.vc.call(client, "state")
        for call in state["calls"]:
            assert call["now"] == self.vc.now
        return result


def _ringing_client(vc: VirtualCenter, clients: list[ClientId]) -> ClientId:
    found = [
        c
        for c in clients
        if (call := vc.call(c, "state")["call"]) is not None and call["state"] == 2
    ]
    assert len(found) == 1, found
    return found[0]


def busy_morning(vc: VirtualCenter) -> tuple[ClientId, ClientId]:
    """agent1 and agent2 at work: queue calls, hold, mute, internal and outside calls,
    attended and blind transfer, failures, callers who give up."""
    a1 = vc.agent_ready("agent1", "agent1-pass", "phone1")
    a2 = vc.agent_ready("agent2", "agent2-pass", "phone2")
    both = [a1, a2]
    do = Watch(vc, both)

    # A Support caller: answered, held, muted, hung up by the agent.
    vc.caller(1, "601 123 456")
    who = _ringing_client(vc, both)
    vc.advance(3)
    do(who, "answer")
    vc.advance(10)
    do(who, "hold")
    vc.advance(5)
    do(who, "unhold")
    do(who, "mute")
    do(who, "mute")
    vc.advance(20)
    do(who, "hangup")
    vc.advance(11)  # wrap-up over

    # A Sales caller (ring-all; agent1 is its only member at work), left to ring out once.
    uid = vc.caller(2, "+420601222333", name="Sales caller", data={"crm": 7})
    vc.advance(16)  # agent1 goes to AUX "Missed call" (RONA), and is back a moment later
    do(a1, "changeStatus", "READY")
    do(a1, "answer")
    do(a1, "setAccountCode", uid, "SALE", "web")
    vc.advance(30)
    vc.caller_hangs_up(uid)
    do(a1, "setAccountCode", uid, "FOLLOW-UP", None, True)

    # agent1 calls agent2 on extension 1002.
    do(a1, "dial", "1002", "directCall")
    vc.advance(2)
    do(a2, "answer")
    vc.advance(30)
    do(a1, "hangup")

    # agent1 calls out under the campaign and transfers the call to agent2, attended.
    do(a1, "dial", "601 555 123", 3, None, {"ticket": "T-1"})
    vc.advance(1)
    do(a1, "transfer", "1002")
    vc.advance(2)
    do(a2, "answer")
    vc.advance(5)
    do(a1, "finishTransfer")
    vc.advance(40)
    do(a2, "hangup")

    # A Support caller for agent2, sent on blindly.
    vc.caller(1, "00420601444555")
    who = _ringing_client(vc, both)
    do(who, "answer")
    vc.advance(5)
    do(who, "blindTransfer", "601 777 888")
    vc.advance(12)

    # Outside numbers that fail: busy, rejected, no answer, invalid.
    for number in ("601120001", "601120003", "601120002", "12345"):
        do(a1, "dial", number)
        vc.advance(31)

    # A caller nobody takes gives up.
    do(a1, "changeStatus", "AUX", "Lunch")
    do(a2, "changeStatus", "AUX", "Break")
    late = vc.caller(1, "+420601999000")
    vc.advance(20)
    vc.caller_hangs_up(late)
    return a1, a2


# --------------------------------------------------------------------------- real objects


def test_state_object_has_exactly_the_contract_keys(vc: VirtualCenter) -> None:
    client = vc.connect()
    vc.call(client, "login", "agent1", "agent1-pass")
    vc.call(client, "selectIdentifier", "phone1")
    provisioned = vc.call(client, "provision")
    assert set(provisioned) == STATE_FIELDS == CONTRACT_STATE_FIELDS
    state = vc.call(client, "state")
    assert set(state) == CONTRACT_STATE_FIELDS
    assert state["state"] == "READY"
    assert state["call"] is None and state["calls"] == []
    vc.call(client, "changeStatus", "READY")
    vc.caller(1)
    state = vc.call(client, "state")
    assert set(state) == CONTRACT_STATE_FIELDS
    assert state["call"] == state["calls"][0]
    check_call(state["call"])


def test_user_and_queue_objects_have_exactly_the_document_fields(vc: VirtualCenter) -> None:
    a1, a2 = busy_morning(vc)
    memberships = {a1: {1, 2, 3}, a2: {1, 3}}
    for client, queues in memberships.items():
        user = vc.call(client, "state")["user"]
        check_user(user, queues)
        assert set(user) == DOC_USER_FIELDS
        for queue in user["queues"].values():
            assert set(queue) == DOC_QUEUE_FIELDS
        assert {q: v["type"] for q, v in user["queues"].items()} == {
            q: {1: 1, 2: 1, 3: 0}[q] for q in queues
        }
        pushed = vc.messages(client, "user.changed")
        assert pushed
        for body in pushed:
            check_user(body["user"], queues)


def test_welcome_carries_a_user_object(vc: VirtualCenter) -> None:
    client = vc.connect()
    welcome = vc.call(client, "login", "supervisor", "supervisor-pass")
    check_user(welcome["user"], {1, 2})
    assert welcome["user"]["superuser"] is True
    assert all(q["supervisor"] is True for q in welcome["user"]["queues"].values())


def test_every_call_object_pushed_or_recorded_has_exactly_the_fields(vc: VirtualCenter) -> None:
    a1, a2 = busy_morning(vc)
    seen = vc.calls_seen(a1) + vc.calls_seen(a2)
    assert len(seen) > 40
    assert {what for what, _ in seen} == {"ringing", "connect", "change", "hangup"}
    for _, call in seen:
        check_call(call)
    assert len(vc.records) >= 10
    for uid, record in vc.records.items():
        check_call(dict(record.call))
        assert record.call["uniqueid"] == uid
        assert record.call["cause"] != -1
        assert record.call["now"] == record.call["disconnected"]


def test_call_objects_are_the_documents_fields_too(vc: VirtualCenter) -> None:
    a1, _ = busy_morning(vc)
    for _, call in vc.calls_seen(a1):
        assert sorted(set(call) ^ DOC_CALL_FIELDS) == []


def test_a_queue_call_from_outside_is_incoming_from_a_trunk(vc: VirtualCenter) -> None:
    agent = vc.agent_ready("agent1", "agent1-pass", "phone1")
    uid = vc.caller(1, "601 123 456")
    vc.advance(2)
    vc.call(agent, "answer")
    call = vc.call(agent, "state")["call"]
    check_call(call)
    assert call["now"] == vc.now
    assert call["direction"] == "INCOMING"
    assert (call["caller_type"], call["connected_type"]) == ("trunk", "line")
    assert (call["caller_internal"], call["connected_internal"]) == (False, True)
    assert call["caller_number"] == "601 123 456"
    assert call["caller_number_norm"] == "+420601123456"
    assert call["number"] == "601 123 456"
    assert (call["connected_user_id"], call["connected_username"]) == (1, "agent1")
    assert call["connected_line_id"] == 1
    assert call["state"] == CallState.CONNECTED
    assert call["connected"] == vc.now and call["created"] == vc.now - 2
    vc.advance(10)
    vc.call(agent, "hangup")
    record = vc.records[uid].call
    assert record["direction"] == "INCOMING"
    assert (record["created"], record["connected"], record["disconnected"]) == (
        vc.now - 12,
        vc.now - 10,
        vc.now,
    )


def test_an_outside_call_dialled_is_outgoing_to_a_trunk(vc: VirtualCenter) -> None:
    agent = vc.agent_ready("agent1", "agent1-pass", "phone1")
    call = vc.call(agent, "dial", "601 123 456")
    check_call(call)
    assert call["direction"] == "OUTGOING"
    assert call["caller_type"] == "line"
    assert (call["caller_user_id"], call["caller_line_id"]) == (1, 1)
    assert call["called_number"] == call["number"] == "601123456"
    assert call["called_number_norm"] == "+420601123456"
    assert call["connected"] is None and call["disconnected"] is None
    vc.advance(1)
    call = vc.call(agent, "state")["call"]
    check_call(call)
    assert call["connected_type"] == "trunk"
    assert call["connected_number_norm"] == "+420601123456"
    assert call["state"] == CallState.CONNECTED
    vc.call(agent, "hangup")
    assert vc.records[UniqueId(call["uniqueid"])].call["direction"] == "OUTGOING"


def test_a_call_between_agents_is_outgoing_for_one_and_incoming_for_the_other(
    vc: VirtualCenter,
) -> None:
    a1 = vc.agent_ready("agent1", "agent1-pass", "phone1")
    a2 = vc.agent_ready("agent2", "agent2-pass", "phone2")
    vc.call(a1, "dial", "1002")
    vc.advance(1)
    vc.call(a2, "answer")
    mine = vc.call(a1, "state")["call"]
    theirs = vc.call(a2, "state")["call"]
    for call in (mine, theirs):
        check_call(call)
        assert (call["caller_type"], call["connected_type"]) == ("line", "line")
        assert (call["caller_username"], call["connected_username"]) == ("agent1", "agent2")
        assert call["uniqueid"] == mine["uniqueid"]
    assert (mine["direction"], mine["number"]) == ("OUTGOING", "1002")
    assert (theirs["direction"], theirs["number"]) == ("INCOMING", "1001")
    seen = [c["direction"] for _, c in vc.calls_seen(a2)]
    assert seen and set(seen) == {"INCOMING"}
    seen = [c["direction"] for _, c in vc.calls_seen(a1)]
    assert seen and set(seen) == {"OUTGOING"}


def test_call_ids_rotate_from_65535_to_1(vc: VirtualCenter) -> None:
    agent = vc.agent_ready("agent1", "agent1-pass", "phone1")
    vc.center.book.ids.skip_to(65535)
    first = vc.caller(1)
    second = vc.caller(1)
    assert vc.center.calls[first].id == 65535
    assert vc.center.calls[second].id == 1
    assert vc.call(agent, "state")["call"]["id"] == 65535
    vc.caller_hangs_up(first)
    vc.caller_hangs_up(second)
    assert vc.records[first].call["id"] == 65535
    assert vc.records[second].call["id"] == 1


def test_uniqueids_never_repeat(vc: VirtualCenter) -> None:
    agent = vc.agent_ready("agent1", "agent1-pass", "phone1")
    vc.center.book.ids.skip_to(65300)  # the short ids wrap round on the way
    uids: list[UniqueId] = []
    ids: list[int] = []
    for i in range(500):
        if i % 5 == 0:
            call = vc.call(agent, "dial", "601123456")
            uid = UniqueId(call["uniqueid"])
            vc.call(agent, "hangup")
        else:
            uid = vc.caller(1 + i % 2)
            if i % 3 == 0:
                vc.advance(0.25)
            vc.caller_hangs_up(uid)
        uids.append(uid)
        ids.append(int(vc.records[uid].call["id"]))
        if i % 7 == 0:
            vc.advance(0.4)
    assert len(set(uids)) == 500
    assert all(1 <= x <= 65535 for x in ids)
    assert 65535 in ids and 1 in ids


def test_a_uniqueid_already_used_is_not_given_again(vc: VirtualCenter) -> None:
    old = vc.caller(1)
    vc.caller_hangs_up(old)
    live = vc.caller(1)
    effects = vc.feed(TrunkCall(number="+420601123456", queue=QueueId(1), uniqueid=old))
    effects += vc.feed(TrunkCall(number="+420601123456", queue=QueueId(1), uniqueid=live))
    created = [e.uniqueid for e in effects if type(e).__name__ == "Created"]
    assert len(created) == 2
    assert old not in created and live not in created
    assert len(set(created)) == 2


def test_a_call_id_in_use_is_never_given_again_after_the_ids_wrap(vc: VirtualCenter) -> None:
    agent = vc.agent_ready("agent2", "agent2-pass", "phone2")
    long_call = vc.caller(1)
    vc.call(agent, "answer")
    first_id = vc.center.calls[long_call].id
    vc.center.book.ids.skip_to(first_id)  # 65,535 calls later the counter comes round to it
    other = vc.caller(2)
    assert vc.center.calls[other].id == first_id + 1
