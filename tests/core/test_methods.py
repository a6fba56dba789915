"""Every method of ``window.ucsOperator`` in every component state, and its argument checks.

CONTRACT §5: a method called in a component state the table does not allow is refused with
``INVALID_STATE`` and changes nothing; bad arguments are refused with ``INVALID_ARGUMENT``, an
unknown queue, call or identifier with ``NOT_FOUND``; refused credentials with ``UNAUTHORIZED``;
too many failed logins for one username with ``TOO_MANY_ATTEMPTS``. One session per agent is
shared by every tab that logs in as that agent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import MORNING
from ucs.core.directory import AgentConfig, Directory
from ucs.core.effects import Refuse, Reply
from ucs.core.errors import (
    InvalidArgument,
    InvalidState,
    NotFound,
    TooManyAttempts,
    UcsError,
    Unauthorized,
)
from ucs.core.events import Command, Connect, MediaStatus, Reconfigure
from ucs.core.ids import AgentId, ClientId, LineId, QueueId, RequestId, UniqueId
from ucs.core.model import CallState, Phase, Status
from ucs.core.session import ALIASES, METHODS, canonical
from ucs.core.sso import make_token
from ucs.demo import DEMO_PASSWORDS, DEMO_SSO_SECRET, demo_directory
from ucs.virtual import VirtualCenter

AGENT1 = AgentId(1)
AGENT2 = AgentId(2)
PHONE1 = LineId(1)

CRED, IDENT, DEVICE, READY = Phase.CREDENTIALS, Phase.IDENTIFY, Phase.DEVICE, Phase.READY
_READY_ONLY = frozenset({READY})

CONTRACT_TABLE: dict[str, frozenset[Phase]] = {
    "login": frozenset({CRED}),
    "sso": frozenset({CRED}),
    "logout": frozenset({IDENT, DEVICE, READY}),
    "selectIdentifier": frozenset({IDENT, DEVICE}),
    "identifier": frozenset({IDENT, DEVICE}),
    "identificator": frozenset({IDENT, DEVICE}),
    "provision": frozenset({IDENT, DEVICE}),
    "identify": frozenset({DEVICE, READY}),
    "changeStatus": _READY_ONLY,
    "suspend": _READY_ONLY,
    "resume": _READY_ONLY,
    "answer": _READY_ONLY,
    "dial": _READY_ONLY,
    "hangup": _READY_ONLY,
    "transfer": _READY_ONLY,
    "finishTransfer": _READY_ONLY,
    "blindTransfer": _READY_ONLY,
    "hold": _READY_ONLY,
    "tribute": _READY_ONLY,
    "unhold": _READY_ONLY,
    "mute": _READY_ONLY,
    "setAccountCode": _READY_ONLY,
    "dispositions": _READY_ONLY,
    "state": _READY_ONLY,
    "selectRingingSound": _READY_ONLY,
    "testRingingSound": _READY_ONLY,
    "stopRingingSoundTest": _READY_ONLY,
    "notify": frozenset(Phase),
    "setTheme": frozenset(Phase),
    "team": _READY_ONLY,
    "directory": _READY_ONLY,
    "setAgentStatus": _READY_ONLY,
    "logoutAgent": _READY_ONLY,
    "startRecording": _READY_ONLY,
    "stopRecording": _READY_ONLY,
    "listen": _READY_ONLY,
    "whisper": _READY_ONLY,
    "barge": _READY_ONLY,
}
"""CONTRACT §5's table of methods and the component states they are allowed in, aliases
included, written out independently of ``ucs.core.session``."""

PHASE_AFTER: dict[str, Phase] = {
    "login": IDENT,
    "sso": IDENT,
    "logout": CRED,
    "selectIdentifier": DEVICE,
    "provision": READY,
    "identify": IDENT,
}
"""Where a successful call leaves the component; every other method leaves the state alone."""


# --------------------------------------------------------------------------- helpers


def enter(vc: VirtualCenter, phase: Phase, username: str = "agent1") -> ClientId:
    """A new connection brought into ``phase`` (agent1 on phone1 unless told otherwise)."""
    client = vc.connect()
    if phase is CRED:
        return client
    vc.call(client, "login", username, f"{username}-pass")
    if phase is IDENT:
        return client
    vc.call(client, "selectIdentifier", f"phone{username[-1]}")
    if phase is DEVICE:
        return client
    vc.call(client, "provision")
    return client


def phase_of(vc: VirtualCenter, client: ClientId) -> Phase:
    agent = vc.center.clients.get(client)
    session = vc.center.sessions.get(agent) if agent is not None else None
    return session.phase if session is not None else CRED


def ringing(vc: VirtualCenter, client: ClientId) -> UniqueId:
    """agent1 READY (availability) and a Support caller ringing its phone."""
    vc.call(client, "changeStatus", "READY")
    uid = vc.caller(1)
    assert vc.call(client, "state")["call"]["state"] == CallState.RINGING
    return uid


def connected(vc: VirtualCenter, client: ClientId) -> UniqueId:
    uid = ringing(vc, client)
    vc.advance(2)
    vc.call(client, "answer")
    assert vc.call(client, "state")["call"]["state"] == CallState.CONNECTED
    return uid


def recorded(vc: VirtualCenter, client: ClientId) -> UniqueId:
    """A Support call connected on agent1's softphone (an engine running), recorded on demand."""
    vc.feed(MediaStatus(True))
    support = dataclasses.replace(vc.center.directory.queues[QueueId(1)], recording="on_demand")
    queues = {**vc.center.directory.queues, QueueId(1): support}
    vc.feed(Reconfigure(dataclasses.replace(vc.center.directory, queues=queues)))
    vc.call(client, "identify")
    vc.call(client, "selectIdentifier", "softphone")
    vc.call(client, "provision")
    return connected(vc, client)


def monitored(vc: VirtualCenter, client: ClientId) -> UniqueId:
    """agent1 (supervising Support) and agent2 on their softphones, agent2 on a Support call."""
    vc.feed(MediaStatus(True))
    agent2 = next(iter(vc.center.connections_of(AgentId(2)) or ()))
    for agent in (client, agent2):
        vc.call(agent, "identify")
        vc.call(agent, "selectIdentifier", "softphone")
        vc.call(agent, "provision")
    return connected(vc, agent2)


def held(vc: VirtualCenter, client: ClientId) -> UniqueId:
    uid = connected(vc, client)
    vc.call(client, "hold")
    return uid


def consulting(vc: VirtualCenter, client: ClientId) -> UniqueId:
    """A Support caller waits (SUSPENDED) while agent1's consultation call rings outside."""
    uid = connected(vc, client)
    vc.call(client, "transfer", "601123456")
    return uid


def snapshot(vc: VirtualCenter) -> dict[str, Any]:
    """Everything a refused command must leave as it was."""
    c = vc.center
    return {
        "clients": dict(c.clients),
        "sessions": {
            a: (
                s.phase,
                s.identifier,
                s.line,
                s.last_identifier,
                s.ringing_sound,
                s.theme,
                sorted(s.clients),
            )
            for a, s in c.sessions.items()
        },
        "agents": {
            a: (x.status, x.reason, x.acw_until, sorted(x.suspended)) for a, x in c.agents.items()
        },
        "calls": {
            u: (
                x.state,
                x.cause,
                x.caller,
                x.connected_party,
                dict(x.offers),
                x.consultation,
                x.consult_for,
                x.pending,
                list(x.account_codes),
                dict(x.data),
            )
            for u, x in c.calls.items()
        },
        "ended": [(u, x.cause, list(x.account_codes)) for u, x in c.ended.items()],
        "line_owner": dict(c.line_owner),
        "agent_calls": {a: sorted(u) for a, u in c.agent_calls.items() if u},
        "state_objects": {a: vc.state_object(a) for a in c.sessions},
        "throttle": (
            {k: list(v) for k, v in c.throttle._failures.items()},
            dict(c.throttle._locked),
            c.throttle._level,
            c.throttle._level_at,
        ),
        "replay": len(c.replay),
        "switch": {u: sorted(lines) for u, lines in vc.switch.ringing.items()},
        "records": sorted(vc.records),
    }


def refused(
    vc: VirtualCenter,
    client: ClientId,
    error: type[UcsError],
    method: str,
    *args: Any,
) -> UcsError:
    """Call ``method``; it must raise exactly ``error``, answer with a refusal and nothing else,
    and change nothing at all."""
    vc.feed(Connect(client))  # the core's clock to the virtual clock: only the call may differ
    before = snapshot(vc)
    mark = len(vc.effects)
    inbox = {k: list(v) for k, v in vc.inbox.items()}
    with pytest.raises(UcsError) as caught:
        vc.call(client, method, *args)
    assert type(caught.value) is error, f"{method}{args!r}: {caught.value!r}"
    assert caught.value.message, "the refusal must say what was wrong"
    new = vc.effects[mark:]
    assert len(new) == 1 and isinstance(new[0], Refuse), new
    assert new[0].code == error.code
    assert snapshot(vc) == before
    assert {k: list(v) for k, v in vc.inbox.items()} == inbox
    return caught.value


def plain_args(vc: VirtualCenter, method: str) -> tuple[Any, ...]:
    """Valid arguments of each method that need nothing else to exist."""
    table: dict[str, tuple[Any, ...]] = {
        "login": ("agent1", "agent1-pass"),
        "sso": ("agent1", make_token(DEMO_SSO_SECRET, "agent1", int(vc.now)), "My CRM"),
        "logout": (),
        "selectIdentifier": ("phone1",),
        "provision": (),
        "identify": (),
        "changeStatus": ("AUX", "Lunch"),
        "suspend": (2,),
        "resume": (2,),
        "answer": (),
        "dial": ("601123456",),
        "hangup": (),
        "transfer": (),
        "finishTransfer": (),
        "blindTransfer": ("601123456",),
        "hold": (),
        "unhold": (),
        "mute": (),
        "setAccountCode": ("1.1", "A1"),
        "dispositions": ("1.1",),
        "state": (),
        "selectRingingSound": ("rush",),
        "testRingingSound": (),
        "stopRingingSoundTest": (),
        "notify": ("hello", "success", True, 5, "READY", "crm", {"values": {"x": 1}}),
        "setTheme": ("dark",),
        "team": (),
        "directory": (),
        "setAgentStatus": (2, "AUX", "Lunch"),
        "logoutAgent": (2,),
        "startRecording": (),
        "stopRecording": (),
        "listen": (2,),
        "whisper": (2,),
        "barge": (2,),
    }
    return table[canonical(method)]


_READY_CONTEXT: dict[str, Callable[[VirtualCenter, ClientId], UniqueId]] = {
    "answer": ringing,
    "hangup": connected,
    "transfer": connected,
    "blindTransfer": connected,
    "hold": connected,
    "mute": connected,
    "unhold": held,
    "finishTransfer": consulting,
    "setAccountCode": connected,
    "dispositions": connected,
    "startRecording": recorded,
    "stopRecording": connected,
    "listen": monitored,
    "whisper": monitored,
    "barge": monitored,
}
"""What a READY-only method acts on, so that it can succeed."""


_SUPERVISING = frozenset({"team", "setAgentStatus", "logoutAgent", "listen", "whisper", "barge"})
"""Methods a supervisor calls (CONTRACT §11)."""


def arrange(vc: VirtualCenter, client: ClientId, method: str, phase: Phase) -> tuple[Any, ...]:
    """Bring about what ``method`` needs in ``phase`` to succeed; return valid arguments."""
    m = canonical(method)
    if phase is IDENT and m == "provision":
        # provision in IDENTIFY re-pairs the phone used before: have one.
        vc.call(client, "selectIdentifier", "phone1")
        vc.call(client, "identify")
        assert phase_of(vc, client) is IDENT
    if phase is READY and m in _SUPERVISING:
        # agent1 supervises Support (1), whose other member agent2 is logged in.
        a1 = vc.center.directory.agents[AGENT1]
        ms = tuple(
            dataclasses.replace(x, supervisor=True) if x.queue == 1 else x for x in a1.memberships
        )
        agents = {**vc.center.directory.agents, AGENT1: dataclasses.replace(a1, memberships=ms)}
        vc.feed(Reconfigure(dataclasses.replace(vc.center.directory, agents=agents)))
        vc.ready(2)
    if phase is READY and m in _READY_CONTEXT:
        uid = _READY_CONTEXT[m](vc, client)
        if m == "setAccountCode":
            return (uid, "A1")
        if m == "dispositions":
            return (uid,)
    return plain_args(vc, method)


def _cases(allowed: bool) -> list[Any]:
    return [
        pytest.param(m, p, id=f"{m}-{p.value}")
        for m, phases in CONTRACT_TABLE.items()
        for p in Phase
        if (p in phases) is allowed
    ]


# --------------------------------------------------------------------------- the table


def test_method_table_matches_the_contract_including_aliases() -> None:
    assert set(METHODS) | set(ALIASES) == set(CONTRACT_TABLE)
    assert ALIASES == {
        "tribute": "hold",
        "identifier": "selectIdentifier",
        "identificator": "selectIdentifier",
    }
    for name, phases in CONTRACT_TABLE.items():
        assert METHODS[canonical(name)].allowed == phases, name


@pytest.mark.parametrize(("method", "phase"), _cases(allowed=False))
def test_method_outside_its_states_is_refused_and_changes_nothing(
    vc: VirtualCenter, method: str, phase: Phase
) -> None:
    client = enter(vc, phase)
    if phase is READY:
        connected(vc, client)  # a live call too, so that there is more to leave alone
    args = plain_args(vc, method)
    refused(vc, client, InvalidState, method, *args)
    assert phase_of(vc, client) is phase


@pytest.mark.parametrize(("method", "phase"), _cases(allowed=True))
def test_method_in_an_allowed_state_with_valid_arguments_succeeds(
    vc: VirtualCenter, method: str, phase: Phase
) -> None:
    client = enter(vc, phase)
    args = arrange(vc, client, method, phase)
    mark = len(vc.effects)
    vc.call(client, method, *args)  # raises on refusal
    assert not any(isinstance(e, Refuse) for e in vc.effects[mark:])
    assert phase_of(vc, client) is PHASE_AFTER.get(canonical(method), phase)


def test_provision_in_identify_without_a_phone_used_before_is_invalid_state(
    vc: VirtualCenter,
) -> None:
    client = enter(vc, IDENT)
    refused(vc, client, InvalidState, "provision")


def test_state_returns_the_state_object_in_ready(vc: VirtualCenter) -> None:
    client = enter(vc, READY)
    state = vc.call(client, "state")
    assert state["state"] == "READY"
    assert (state["identifier"], state["line"]) == ("phone1", PHONE1)
    assert state == vc.state_object(AGENT1)


# --------------------------------------------------------------------------- bad arguments

UID = object()
"""Stands for the uniqueid of agent1's live call in the table below."""
OTHER_UID = object()
"""Stands for the uniqueid of a live call agent1 has never been on."""

_CONTEXTS: dict[str, Phase] = {
    "CRED": CRED,
    "IDENT": IDENT,
    "DEVICE": DEVICE,
    "READY": READY,
    "call": READY,
}

BAD_ARGUMENTS: list[tuple[str, str, tuple[Any, ...], type[UcsError]]] = [
    # login
    ("CRED", "login", (), InvalidArgument),
    ("CRED", "login", ("agent1",), InvalidArgument),
    ("CRED", "login", (None, "agent1-pass"), InvalidArgument),
    ("CRED", "login", (123, "agent1-pass"), InvalidArgument),
    ("CRED", "login", (["agent1"], "agent1-pass"), InvalidArgument),
    ("CRED", "login", ("", "agent1-pass"), InvalidArgument),
    ("CRED", "login", ("   ", "agent1-pass"), InvalidArgument),
    ("CRED", "login", ("a" * 257, "agent1-pass"), InvalidArgument),
    ("CRED", "login", ("agent1", 5), InvalidArgument),
    ("CRED", "login", ("agent1", None), InvalidArgument),
    ("CRED", "login", ("agent1", "agent1-pass", "yes"), InvalidArgument),
    ("CRED", "login", ("agent1", "agent1-pass", 1), InvalidArgument),
    ("CRED", "login", ("agent1", "agent1-pass", True, "extra"), InvalidArgument),
    # sso
    ("CRED", "sso", (), InvalidArgument),
    ("CRED", "sso", ("agent1",), InvalidArgument),
    ("CRED", "sso", ("agent1", ""), InvalidArgument),
    ("CRED", "sso", ("agent1", 5), InvalidArgument),
    ("CRED", "sso", ("agent1", "x" * 4097), InvalidArgument),
    ("CRED", "sso", ("", "dG9rZW4="), InvalidArgument),
    ("CRED", "sso", (7, "dG9rZW4="), InvalidArgument),
    ("CRED", "sso", ("agent1", "dG9rZW4=", 5), InvalidArgument),
    ("CRED", "sso", ("agent1", "dG9rZW4=", ""), InvalidArgument),
    ("CRED", "sso", ("agent1", "dG9rZW4=", "CRM", "extra"), InvalidArgument),
    # selectIdentifier and its aliases
    ("IDENT", "selectIdentifier", (), InvalidArgument),
    ("IDENT", "selectIdentifier", (5,), InvalidArgument),
    ("IDENT", "selectIdentifier", ("",), InvalidArgument),
    ("IDENT", "selectIdentifier", ("   ",), InvalidArgument),
    ("IDENT", "selectIdentifier", ("nope",), NotFound),
    ("IDENT", "selectIdentifier", ("phone1", "phone2"), InvalidArgument),
    ("IDENT", "identifier", ("nope",), NotFound),
    ("IDENT", "identifier", (None,), InvalidArgument),
    ("IDENT", "identificator", (5,), InvalidArgument),
    ("IDENT", "identificator", ("nope",), NotFound),
    ("DEVICE", "selectIdentifier", ("nope",), NotFound),
    ("DEVICE", "selectIdentifier", ("",), InvalidArgument),
    # methods without arguments given some
    ("IDENT", "logout", ("x",), InvalidArgument),
    ("DEVICE", "provision", ("x",), InvalidArgument),
    ("DEVICE", "identify", ("x",), InvalidArgument),
    ("READY", "logout", (1,), InvalidArgument),
    ("READY", "state", ("x",), InvalidArgument),
    ("READY", "answer", (1,), InvalidArgument),
    ("call", "hangup", ("x",), InvalidArgument),
    ("call", "hold", (1,), InvalidArgument),
    ("call", "tribute", (1,), InvalidArgument),
    ("call", "unhold", (1,), InvalidArgument),
    ("call", "mute", (True,), InvalidArgument),
    ("call", "finishTransfer", (1,), InvalidArgument),
    ("READY", "testRingingSound", ("rush",), InvalidArgument),
    ("READY", "stopRingingSoundTest", (1,), InvalidArgument),
    # changeStatus
    ("READY", "changeStatus", (), InvalidArgument),
    ("READY", "changeStatus", (None,), InvalidArgument),
    ("READY", "changeStatus", ("BUSY",), InvalidArgument),
    ("READY", "changeStatus", ("ready",), InvalidArgument),
    ("READY", "changeStatus", ("",), InvalidArgument),
    ("READY", "changeStatus", (1,), InvalidArgument),
    ("READY", "changeStatus", ("AUX",), InvalidArgument),
    ("READY", "changeStatus", ("AUX", None), InvalidArgument),
    ("READY", "changeStatus", ("AUX", "Nap"), InvalidArgument),
    ("READY", "changeStatus", ("AUX", "lunch"), InvalidArgument),
    ("READY", "changeStatus", ("AUX", ""), InvalidArgument),
    ("READY", "changeStatus", ("AUX", 5), InvalidArgument),
    ("READY", "changeStatus", ("READY", "Lunch"), InvalidArgument),
    ("READY", "changeStatus", ("OFFLINE", "Lunch"), InvalidArgument),
    ("READY", "changeStatus", ("ACW", "Lunch"), InvalidArgument),
    ("READY", "changeStatus", ("READY", None, "extra"), InvalidArgument),
    # suspend / resume
    ("READY", "suspend", (), InvalidArgument),
    ("READY", "suspend", ("x",), InvalidArgument),
    ("READY", "suspend", ("",), InvalidArgument),
    ("READY", "suspend", (0,), InvalidArgument),
    ("READY", "suspend", (-1,), InvalidArgument),
    ("READY", "suspend", (True,), InvalidArgument),
    ("READY", "suspend", (1.5,), InvalidArgument),
    ("READY", "suspend", ([1],), InvalidArgument),
    ("READY", "suspend", (999,), NotFound),
    ("READY", "suspend", (1, 2), InvalidArgument),
    ("READY", "resume", (), InvalidArgument),
    ("READY", "resume", ("x",), InvalidArgument),
    ("READY", "resume", (999,), NotFound),
    # dial
    ("READY", "dial", (), InvalidArgument),
    ("READY", "dial", (None,), InvalidArgument),
    ("READY", "dial", ("abc",), InvalidArgument),
    ("READY", "dial", ("",), InvalidArgument),
    ("READY", "dial", ("   ",), InvalidArgument),
    ("READY", "dial", ("+-()",), InvalidArgument),
    ("READY", "dial", (True,), InvalidArgument),
    ("READY", "dial", (1.5,), InvalidArgument),
    ("READY", "dial", (-5,), InvalidArgument),
    ("READY", "dial", ("1" * 65,), InvalidArgument),
    ("READY", "dial", ({"number": "123"},), InvalidArgument),
    ("READY", "dial", ("1001",), InvalidArgument),  # agent1's own phone
    ("READY", "dial", ("123", "directCall", 99), NotFound),  # not agent1's line
    ("READY", "dial", ("123", None, 2), NotFound),  # a line of ours, but not agent1's
    ("READY", "dial", ("123", 1), InvalidArgument),  # Support is an incoming queue
    ("READY", "dial", ("123", 2), InvalidArgument),  # Sales is an incoming queue
    ("READY", "dial", ("123", 99), NotFound),
    ("READY", "dial", ("123", "campaign"), InvalidArgument),
    ("READY", "dial", ("123", 3.5), InvalidArgument),
    ("READY", "dial", ("123", True), InvalidArgument),
    ("READY", "dial", ("123", None, "x"), InvalidArgument),
    ("READY", "dial", ("123", None, 0), InvalidArgument),
    ("READY", "dial", ("123", None, None, "data"), InvalidArgument),
    ("READY", "dial", ("123", None, None, [1, 2]), InvalidArgument),
    ("READY", "dial", ("123", None, None, {}, "extra"), InvalidArgument),
    # transfer / blindTransfer (on a live call, so that the number is what is wrong)
    ("call", "transfer", ("abc",), InvalidArgument),
    ("call", "transfer", ("",), InvalidArgument),
    ("call", "transfer", (1.5,), InvalidArgument),
    ("call", "transfer", (True,), InvalidArgument),
    ("call", "transfer", ("1001",), InvalidArgument),
    ("call", "transfer", ("1002", "extra"), InvalidArgument),
    ("call", "blindTransfer", (), InvalidArgument),
    ("call", "blindTransfer", (None,), InvalidArgument),
    ("call", "blindTransfer", ("abc",), InvalidArgument),
    ("call", "blindTransfer", (1.5,), InvalidArgument),
    ("call", "blindTransfer", ("1001",), InvalidArgument),
    ("call", "blindTransfer", ("1002", "extra"), InvalidArgument),
    # setAccountCode
    ("call", "setAccountCode", (), InvalidArgument),
    ("call", "setAccountCode", (UID,), InvalidArgument),
    ("call", "setAccountCode", ("nope", "A1"), NotFound),
    ("call", "setAccountCode", (OTHER_UID, "A1"), NotFound),
    ("call", "setAccountCode", ("", "A1"), InvalidArgument),
    ("call", "setAccountCode", (5, "A1"), InvalidArgument),
    ("call", "setAccountCode", ("x" * 65, "A1"), InvalidArgument),
    ("call", "setAccountCode", (UID, ""), InvalidArgument),
    ("call", "setAccountCode", (UID, 5), InvalidArgument),
    ("call", "setAccountCode", (UID, "x" * 65), InvalidArgument),
    ("call", "setAccountCode", (UID, "A1", 5), InvalidArgument),
    ("call", "setAccountCode", (UID, "A1", ""), InvalidArgument),
    ("call", "setAccountCode", (UID, "A1", None, "yes"), InvalidArgument),
    ("call", "setAccountCode", (UID, "A1", None, False, "extra"), InvalidArgument),
    # dispositions
    ("call", "dispositions", (), InvalidArgument),
    ("call", "dispositions", ("nope",), NotFound),
    ("call", "dispositions", (OTHER_UID,), NotFound),
    ("call", "dispositions", (5,), InvalidArgument),
    ("call", "dispositions", (UID, "extra"), InvalidArgument),
    # selectRingingSound
    ("READY", "selectRingingSound", (), InvalidArgument),
    ("READY", "selectRingingSound", ("x",), InvalidArgument),
    ("READY", "selectRingingSound", ("Rush",), InvalidArgument),
    ("READY", "selectRingingSound", (5,), InvalidArgument),
    ("READY", "selectRingingSound", ("rush", "quest"), InvalidArgument),
    # notify (any state)
    ("CRED", "notify", (), InvalidArgument),
    ("CRED", "notify", ("",), InvalidArgument),
    ("READY", "notify", (5,), InvalidArgument),
    ("READY", "notify", ("x" * 1001,), InvalidArgument),
    ("CRED", "notify", ("t", "bad"), InvalidArgument),
    ("READY", "notify", ("t", "INFO"), InvalidArgument),
    ("READY", "notify", ("t", 1), InvalidArgument),
    ("READY", "notify", ("t", "info", "yes"), InvalidArgument),
    ("READY", "notify", ("t", "info", False, -1), InvalidArgument),
    ("READY", "notify", ("t", "info", False, "10"), InvalidArgument),
    ("READY", "notify", ("t", "info", False, True), InvalidArgument),
    ("READY", "notify", ("t", "info", False, None, "NOPE"), InvalidArgument),
    ("READY", "notify", ("t", "info", False, None, "ready"), InvalidArgument),
    ("READY", "notify", ("t", "info", False, None, None, 5), InvalidArgument),
    ("READY", "notify", ("t", "info", False, None, None, ""), InvalidArgument),
    ("READY", "notify", ("t", "info", False, None, None, None, "x"), InvalidArgument),
    ("IDENT", "notify", ("t", "info", False, None, None, None, {}, "extra"), InvalidArgument),
    # setTheme (any state)
    ("CRED", "setTheme", ("pink",), InvalidArgument),
    ("DEVICE", "setTheme", ("Dark",), InvalidArgument),
    ("READY", "setTheme", (), InvalidArgument),
    ("READY", "setTheme", (None,), InvalidArgument),
    ("READY", "setTheme", (1,), InvalidArgument),
    # unknown methods
    ("CRED", "fly", (), InvalidArgument),
    ("READY", "fly", (), InvalidArgument),
    ("READY", "Hold", (), InvalidArgument),
]


@pytest.mark.parametrize(
    ("context", "method", "args", "error"),
    [
        pytest.param(ctx, m, a, e, id=f"{ctx}-{m}-{i}")
        for i, (ctx, m, a, e) in enumerate(BAD_ARGUMENTS)
    ],
)
def test_bad_arguments_are_refused_and_change_nothing(
    vc: VirtualCenter,
    context: str,
    method: str,
    args: tuple[Any, ...],
    error: type[UcsError],
) -> None:
    client = enter(vc, _CONTEXTS[context])
    mine: UniqueId | None = None
    other: UniqueId | None = None
    if context == "call":
        mine = connected(vc, client)
        other = vc.caller(2)  # waits: agent1 is busy and nobody else is logged in
    real = tuple(mine if a is UID else other if a is OTHER_UID else a for a in args)
    refused(vc, client, error, method, *real)


@pytest.mark.parametrize(
    "method",
    [pytest.param(m, id=m) for m in CONTRACT_TABLE],
)
def test_one_argument_too_many_is_invalid_argument(vc: VirtualCenter, method: str) -> None:
    phase = min(CONTRACT_TABLE[method], key=list(Phase).index)
    client = enter(vc, phase)
    spec = METHODS[canonical(method)]
    args = list(plain_args(vc, method))
    args += [None] * (len(spec.params) - len(args))
    refused(vc, client, InvalidArgument, method, *args, "extra")


@pytest.mark.parametrize(
    "method",
    [
        pytest.param(m, id=m)
        for m in CONTRACT_TABLE
        if any(p.required for p in METHODS[canonical(m)].params)
    ],
)
def test_missing_required_argument_is_invalid_argument(vc: VirtualCenter, method: str) -> None:
    phase = min(CONTRACT_TABLE[method], key=list(Phase).index)
    client = enter(vc, phase)
    refused(vc, client, InvalidArgument, method)


def test_trailing_undefined_arguments_are_ignored(vc: VirtualCenter) -> None:
    client = enter(vc, READY)
    assert vc.call(client, "state", None, None)["state"] == "READY"
    assert vc.call(client, "changeStatus", "READY", None, None)["status"] == "READY"


def test_valid_numbers_and_queues_are_accepted(vc: VirtualCenter) -> None:
    client = enter(vc, READY)
    assert vc.call(client, "suspend", 2)["suspended"] is True
    assert vc.call(client, "resume", 2)["suspended"] is False
    cases: list[tuple[tuple[Any, ...], int | None]] = [
        (("601 123 456",), 3),  # "undefined": agent1's only campaign
        ((601123456, "undefined"), 3),
        (("601-123-456", "directCall"), None),
        (("+420601123456", 3, 1, {"crm": "A-1"}), 3),
        (("601123456", 3, None, None), 3),
    ]
    for args, outbound in cases:
        call = vc.call(client, "dial", *args)
        assert call["outbound_id"] == outbound, args
        assert call["called_number_norm"] == "+420601123456", args
        assert call["direction"] == "OUTGOING"
        vc.call(client, "hangup")
    assert vc.records[UniqueId(call["uniqueid"])].call["data"] == {}
    call = vc.call(client, "dial", "601123456", None, None, {"crm": "A-1"})
    assert call["data"] == {"crm": "A-1"}


def test_aux_with_a_known_reason_sets_availability_and_reason(vc: VirtualCenter) -> None:
    client = enter(vc, READY)
    user = vc.call(client, "changeStatus", "AUX", "Lunch")
    assert user["status"] == "AUX"
    agent = vc.center.agents[AGENT1]
    assert (agent.status, agent.reason) == (Status.AUX, "Lunch")
    vc.call(client, "changeStatus", "READY")
    assert (agent.status, agent.reason) == (Status.READY, None)


# --------------------------------------------------------------------------- args by name


def _answer(effects: list[Any], request: str) -> Reply | Refuse:
    found = [e for e in effects if isinstance(e, Reply | Refuse) and e.request == request]
    assert len(found) == 1, effects
    answer: Reply | Refuse = found[0]
    return answer


def test_arguments_given_by_name_work(vc: VirtualCenter) -> None:
    client = enter(vc, READY)
    effects = vc.feed(Command(client, RequestId("x"), "changeStatus", {"status": "READY"}))
    reply = _answer(effects, "x")
    assert isinstance(reply, Reply)
    assert reply.result["status"] == "READY"
    assert vc.center.agents[AGENT1].status is Status.READY

    effects = vc.feed(
        Command(client, RequestId("y"), "changeStatus", {"reason": "Break", "status": "AUX"})
    )
    assert isinstance(_answer(effects, "y"), Reply)
    assert vc.center.agents[AGENT1].reason == "Break"

    effects = vc.feed(
        Command(client, RequestId("z"), "selectRingingSound", {"ringingSound": "quest"})
    )
    assert isinstance(_answer(effects, "z"), Reply)
    assert vc.call(client, "state")["ringingSound"] == "quest"


def test_login_by_name_works(vc: VirtualCenter) -> None:
    client = vc.connect()
    args = {"username": "agent1", "password": "agent1-pass", "remember": True}
    reply = _answer(vc.feed(Command(client, RequestId("1"), "login", args)), "1")
    assert isinstance(reply, Reply)
    assert phase_of(vc, client) is IDENT


@pytest.mark.parametrize(
    ("method", "args"),
    [
        pytest.param("changeStatus", {"status": "AUX"}, id="aux-without-reason"),
        pytest.param("changeStatus", {"status": "BUSY"}, id="unknown-status"),
        pytest.param("changeStatus", {"reason": "Lunch"}, id="missing-status"),
        pytest.param("changeStatus", {"status": "READY", "bogus": 1}, id="unknown-name"),
        pytest.param("changeStatus", "READY", id="a-string-not-a-list"),
        pytest.param("changeStatus", 5, id="a-number-not-a-list"),
        pytest.param("state", {"x": 1}, id="no-such-argument"),
        pytest.param("dial", {"queue": 3}, id="dial-without-number"),
    ],
)
def test_bad_arguments_by_name_are_refused_and_change_nothing(
    vc: VirtualCenter, method: str, args: Any
) -> None:
    client = enter(vc, READY)
    vc.feed(Connect(client))
    before = snapshot(vc)
    effects = vc.feed(Command(client, RequestId("r"), method, args))
    answer = _answer(effects, "r")
    assert isinstance(answer, Refuse)
    assert answer.code == "INVALID_ARGUMENT"
    assert effects == [answer]
    assert snapshot(vc) == before


def test_alias_by_name_with_no_arguments(vc: VirtualCenter) -> None:
    client = enter(vc, READY)
    uid = connected(vc, client)
    reply = _answer(vc.feed(Command(client, RequestId("h"), "tribute", {})), "h")
    assert isinstance(reply, Reply)
    assert vc.center.calls[uid].state is CallState.HELD


# --------------------------------------------------------------------------- login


def test_login_with_a_wrong_password_is_unauthorized(vc: VirtualCenter) -> None:
    client = vc.connect()
    with pytest.raises(Unauthorized):
        vc.call(client, "login", "agent1", "wrong")
    with pytest.raises(Unauthorized):
        vc.call(client, "login", "nobody", "agent1-pass")
    with pytest.raises(Unauthorized):
        vc.call(client, "login", "agent1", "")
    assert phase_of(vc, client) is CRED
    assert vc.center.sessions == {}
    vc.call(client, "login", "agent1", "agent1-pass")
    assert phase_of(vc, client) is IDENT


def test_five_wrong_passwords_lock_the_username_whatever_the_password(vc: VirtualCenter) -> None:
    client = vc.connect()
    for _ in range(5):
        with pytest.raises(Unauthorized):
            vc.call(client, "login", "agent1", "wrong")
    refused(vc, client, TooManyAttempts, "login", "agent1", "agent1-pass")
    refused(vc, client, TooManyAttempts, "login", "agent1", "wrong")
    token = make_token(DEMO_SSO_SECRET, "agent1", int(vc.now))
    with pytest.raises(TooManyAttempts):
        vc.call(client, "sso", "agent1", token)

    other = vc.connect()
    vc.call(other, "login", "agent2", "agent2-pass")  # another username is not affected
    assert phase_of(vc, other) is IDENT

    vc.advance(301)
    vc.call(client, "login", "agent1", "agent1-pass")
    assert phase_of(vc, client) is IDENT


def test_lockout_lasts_five_minutes(vc: VirtualCenter) -> None:
    client = vc.connect()
    for _ in range(5):
        with pytest.raises(Unauthorized):
            vc.call(client, "login", "agent1", "wrong")
    vc.advance(299)
    with pytest.raises(TooManyAttempts):
        vc.call(client, "login", "agent1", "agent1-pass")
    vc.advance(2)
    vc.call(client, "login", "agent1", "agent1-pass")


def test_after_the_lockout_failures_are_counted_afresh(vc: VirtualCenter) -> None:
    client = vc.connect()
    for _ in range(5):
        with pytest.raises(Unauthorized):
            vc.call(client, "login", "agent1", "wrong")
    vc.advance(301)
    for _ in range(4):
        with pytest.raises(Unauthorized):
            vc.call(client, "login", "agent1", "wrong")
    vc.call(client, "login", "agent1", "agent1-pass")


def test_failures_spread_over_more_than_five_minutes_do_not_lock(vc: VirtualCenter) -> None:
    client = vc.connect()
    for _ in range(4):
        with pytest.raises(Unauthorized):
            vc.call(client, "login", "agent1", "wrong")
    vc.advance(301)
    with pytest.raises(Unauthorized):
        vc.call(client, "login", "agent1", "wrong")
    vc.call(client, "login", "agent1", "agent1-pass")


def test_a_successful_login_forgets_earlier_failures(vc: VirtualCenter) -> None:
    client = vc.connect()
    for _ in range(4):
        with pytest.raises(Unauthorized):
            vc.call(client, "login", "agent1", "wrong")
    vc.call(client, "login", "agent1", "agent1-pass")
    vc.call(client, "logout")
    for _ in range(4):
        with pytest.raises(Unauthorized):
            vc.call(client, "login", "agent1", "wrong")
    vc.call(client, "login", "agent1", "agent1-pass")


# --------------------------------------------------------------------------- SSO


def test_sso_with_a_fresh_token_logs_in(vc: VirtualCenter) -> None:
    client = vc.connect()
    token = make_token(DEMO_SSO_SECRET, "agent1", int(vc.now))
    welcome = vc.call(client, "sso", "agent1", token, "My CRM")
    assert welcome["user"]["id"] == AGENT1
    assert phase_of(vc, client) is IDENT


def test_sso_token_used_twice_is_unauthorized(vc: VirtualCenter) -> None:
    first = vc.connect()
    token = make_token(DEMO_SSO_SECRET, "agent1", int(vc.now))
    vc.call(first, "sso", "agent1", token)
    second = vc.connect()
    with pytest.raises(Unauthorized):
        vc.call(second, "sso", "agent1", token)
    assert phase_of(vc, second) is CRED
    assert vc.center.sessions[AGENT1].clients == {first}


@pytest.mark.parametrize("age", [301, -301, 3600])
def test_sso_token_outside_the_window_is_unauthorized(vc: VirtualCenter, age: int) -> None:
    client = vc.connect()
    token = make_token(DEMO_SSO_SECRET, "agent1", int(vc.now) - age)
    with pytest.raises(Unauthorized):
        vc.call(client, "sso", "agent1", token)
    assert phase_of(vc, client) is CRED


def test_sso_token_of_another_user_is_unauthorized_and_not_used_up(vc: VirtualCenter) -> None:
    client = vc.connect()
    token = make_token(DEMO_SSO_SECRET, "agent2", int(vc.now))
    with pytest.raises(Unauthorized):
        vc.call(client, "sso", "agent1", token)
    assert phase_of(vc, client) is CRED
    vc.call(client, "sso", "agent2", token)
    assert vc.center.clients[client] == AGENT2


def test_sso_with_a_wrong_secret_or_unknown_user_is_unauthorized(vc: VirtualCenter) -> None:
    client = vc.connect()
    with pytest.raises(Unauthorized):
        vc.call(client, "sso", "agent1", make_token("other-secret", "agent1", int(vc.now)))
    with pytest.raises(Unauthorized):
        vc.call(client, "sso", "nobody", make_token(DEMO_SSO_SECRET, "nobody", int(vc.now)))
    with pytest.raises(Unauthorized):
        vc.call(client, "sso", "agent1", "not base64!")
    assert phase_of(vc, client) is CRED


def test_sso_without_a_valid_token_tells_nothing_of_which_usernames_exist(
    vc: VirtualCenter,
) -> None:
    client = vc.connect()
    answers = []
    for username in ("agent1", "nobody"):
        for token in (make_token("guessed-secret", username, int(vc.now)), "bm90IGEgdG9rZW4="):
            with pytest.raises(Unauthorized) as refused:
                vc.call(client, "sso", username, token)
            answers.append(refused.value.message.replace(repr(username), "NAME"))
    assert answers[:2] == answers[2:], answers
    # Whoever can sign a token (the CRM's back end) is told when the agent does not exist.
    with pytest.raises(Unauthorized, match="no agent 'nobody'"):
        vc.call(client, "sso", "nobody", make_token(DEMO_SSO_SECRET, "nobody", int(vc.now)))


def test_sso_is_refused_when_no_secret_is_configured() -> None:
    vc = VirtualCenter(demo_directory(), start=MORNING, passwords=DEMO_PASSWORDS, sso_secret="")
    client = vc.connect()
    with pytest.raises(Unauthorized):
        vc.call(client, "sso", "agent1", make_token("", "agent1", int(vc.now)))
    assert phase_of(vc, client) is CRED


# --------------------------------------------------------------------------- shared sessions


@pytest.mark.parametrize("phase", [IDENT, DEVICE, READY])
def test_second_login_joins_the_session_in_its_state(vc: VirtualCenter, phase: Phase) -> None:
    first = enter(vc, phase)
    second = vc.connect()
    welcome = vc.call(second, "login", "agent1", "agent1-pass")
    assert welcome["session"]["state"] == phase.value
    assert welcome["session"]["identifier"] == (None if phase is IDENT else "phone1")
    assert phase_of(vc, second) is phase
    assert len(vc.center.sessions) == 1
    assert vc.center.sessions[AGENT1].clients == {first, second}
    if phase is READY:
        assert vc.call(second, "state") == vc.call(first, "state")
    else:
        refused(vc, second, InvalidState, "state")


def test_a_tab_joining_by_sso_goes_straight_to_ready(vc: VirtualCenter) -> None:
    enter(vc, READY)
    second = vc.connect()
    token = make_token(DEMO_SSO_SECRET, "agent1", int(vc.now))
    assert vc.call(second, "sso", "agent1", token, "CRM")["session"]["state"] == "READY"
    assert vc.call(second, "state")["identifier"] == "phone1"


def test_a_push_reaches_every_tab_of_the_agent(vc: VirtualCenter) -> None:
    first = enter(vc, READY)
    second = vc.connect()
    vc.call(second, "login", "agent1", "agent1-pass")
    stranger = enter(vc, READY, "agent2")
    marks = {c: len(vc.messages(c, "user.changed")) for c in (first, second, stranger)}
    vc.call(second, "changeStatus", "AUX", "Lunch")
    for tab in (first, second):
        new = vc.messages(tab, "user.changed")[marks[tab] :]
        assert new and new[-1]["user"]["status"] == "AUX", tab
        assert vc.messages(tab, "session.changed")[-1]["reason"] == "Lunch"
    assert len(vc.messages(stranger, "user.changed")) == marks[stranger]


def test_a_call_rings_in_every_tab(vc: VirtualCenter) -> None:
    first = enter(vc, READY)
    second = vc.connect()
    vc.call(second, "login", "agent1", "agent1-pass")
    uid = ringing(vc, first)
    for tab in (first, second):
        assert ("ringing", uid) in [(w, c["uniqueid"]) for w, c in vc.calls_seen(tab)]


def test_logout_from_one_tab_ends_the_session_in_every_tab(vc: VirtualCenter) -> None:
    first = enter(vc, READY)
    second = vc.connect()
    vc.call(second, "login", "agent1", "agent1-pass")
    vc.call(first, "logout")
    for tab in (first, second):
        assert vc.messages(tab, "session.ended") == [{}], tab
        assert phase_of(vc, tab) is CRED
    assert AGENT1 not in vc.center.sessions
    assert vc.center.agents[AGENT1].status is Status.OFFLINE
    assert PHONE1 not in vc.center.line_owner
    refused(vc, second, InvalidState, "state")
    refused(vc, second, InvalidState, "logout")
    vc.call(second, "login", "agent1", "agent1-pass")
    assert phase_of(vc, second) is IDENT
    assert phase_of(vc, first) is CRED


@pytest.mark.parametrize("make_call", [ringing, connected, held, consulting])
@pytest.mark.parametrize("method", ["logout", "identify"])
def test_logout_and_identify_during_a_call_are_invalid_state(
    vc: VirtualCenter,
    method: str,
    make_call: Callable[[VirtualCenter, ClientId], UniqueId],
) -> None:
    client = enter(vc, READY)
    make_call(vc, client)
    refused(vc, client, InvalidState, method)
    assert phase_of(vc, client) is READY


def test_logout_and_identify_during_a_dialled_call_are_invalid_state(vc: VirtualCenter) -> None:
    client = enter(vc, READY)
    vc.call(client, "dial", "601123456")
    refused(vc, client, InvalidState, "logout")
    refused(vc, client, InvalidState, "identify")
    vc.advance(5)
    refused(vc, client, InvalidState, "logout")


def test_phone_of_another_agent_cannot_be_selected(vc: VirtualCenter) -> None:
    holder = vc.connect()
    vc.call(holder, "login", "agent2", "agent2-pass")
    vc.call(holder, "selectIdentifier", "phone1")  # DEVICE: the phone is held already
    client = enter(vc, IDENT)
    for name in ("selectIdentifier", "identifier", "identificator"):
        refused(vc, client, InvalidState, name, "phone1")
    vc.call(holder, "provision")
    refused(vc, client, InvalidState, "selectIdentifier", "phone1")
    vc.call(client, "selectIdentifier", "phone3")
    assert vc.center.line_owner == {PHONE1: AGENT2, LineId(3): AGENT1}


def test_choosing_another_phone_in_device_releases_the_first(vc: VirtualCenter) -> None:
    client = enter(vc, DEVICE)
    assert vc.center.line_owner == {PHONE1: AGENT1}
    vc.call(client, "identifier", "phone3")
    assert vc.center.line_owner == {LineId(3): AGENT1}
    other = enter(vc, IDENT, "agent2")
    vc.call(other, "selectIdentifier", "phone1")
    assert vc.center.line_owner[PHONE1] == AGENT2


def test_identify_then_provision_re_pairs_the_old_phone(vc: VirtualCenter) -> None:
    client = enter(vc, READY)
    vc.call(client, "identify")
    assert phase_of(vc, client) is IDENT
    assert PHONE1 not in vc.center.line_owner
    session = vc.center.sessions[AGENT1]
    assert (session.identifier, session.line) == (None, None)
    state = vc.call(client, "provision")
    assert phase_of(vc, client) is READY
    assert (state["identifier"], state["line"]) == ("phone1", PHONE1)
    assert vc.center.line_owner == {PHONE1: AGENT1}


def test_provision_in_identify_refuses_an_old_phone_taken_meanwhile(vc: VirtualCenter) -> None:
    client = enter(vc, READY)
    vc.call(client, "identify")
    other = enter(vc, IDENT, "agent2")
    vc.call(other, "selectIdentifier", "phone1")
    refused(vc, client, InvalidState, "provision")
    assert phase_of(vc, client) is IDENT


def test_logout_in_device_releases_the_phone(vc: VirtualCenter) -> None:
    client = enter(vc, DEVICE)
    vc.call(client, "logout")
    assert vc.center.line_owner == {}
    assert phase_of(vc, client) is CRED


def test_theme_and_ringing_sound_are_part_of_the_session(vc: VirtualCenter) -> None:
    client = enter(vc, READY)
    assert vc.call(client, "setTheme", "dark") == "dark"
    assert vc.call(client, "selectRingingSound", "christmas") == "christmas"
    state = vc.call(client, "state")
    assert (state["theme"], state["ringingSound"]) == ("dark", "christmas")
    anonymous = vc.connect()
    assert vc.call(anonymous, "setTheme", "dark") == "dark"


def test_sso_token_of_a_user_whose_name_extends_the_username_is_unauthorized() -> None:
    # "agent1" + "0" + timestamp is the same byte string as "agent10" + timestamp: a token made
    # for agent10 must not log in agent1 (with the timestamp read as "0" + timestamp).
    demo = demo_directory()
    agent10 = AgentConfig(id=AgentId(10), username="agent10", lines=(LineId(4),))
    directory = Directory(
        agents={**demo.agents, AgentId(10): agent10}, lines=demo.lines, queues=demo.queues
    )
    vc = VirtualCenter(
        directory,
        start=MORNING,
        passwords=DEMO_PASSWORDS,
        sso_secret=DEMO_SSO_SECRET,
    )
    client = vc.connect()
    token = make_token(DEMO_SSO_SECRET, "agent10", int(vc.now))
    with pytest.raises(Unauthorized):
        vc.call(client, "sso", "agent1", token)
    assert phase_of(vc, client) is CRED
    vc.call(client, "sso", "agent10", token)
    assert vc.center.clients[client] == AgentId(10)
