"""The methods of ``window.ucsOperator`` as the server carries them out.

Each handler gets arguments already checked by ``session.bind`` and raises a ``UcsError``
before changing anything when it refuses; what it returns is the request's result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ucs.core import (
    callback,
    dispositions,
    monitoring,
    phonebook,
    registration,
    telephony,
    transfer,
    views,
)
from ucs.core.agent import check_status
from ucs.core.call import Call
from ucs.core.directory import QueueType
from ucs.core.effects import Hold, Mute, PickUp, Unhold
from ucs.core.errors import (
    InvalidArgument,
    InvalidState,
    MediaUnavailable,
    NotFound,
    Unauthorized,
)
from ucs.core.ids import AgentId, ClientId, LineId, QueueId
from ucs.core.model import CallState, Cause, Phase, Side, Status
from ucs.core.softphone import SOFTPHONE, softphone_line
from ucs.core.sso import verify_token
from ucs.core.views import phones_wire, user_wire

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["HANDLERS"]

Handler = Callable[["Center", ClientId, AgentId | None, dict[str, Any]], Any]


def _welcome(c: Center, me: AgentId) -> dict[str, Any]:
    return c.welcome(me)


def _state_object(c: Center, me: AgentId) -> dict[str, Any]:
    return views.state_object(c.agents[me], c.sessions.get(me), c.directory, c.book, c.now)


def login(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    username: str = a["username"]
    cfg = c.directory.agent_by_username(username)
    c.throttle.check(username, c.now, known=cfg is not None)
    if cfg is None or not c.passwords(cfg, a["password"]):
        c.throttle.failed(username, c.now, known=cfg is not None)
        raise Unauthorized("wrong username or password")
    c.throttle.succeeded(username)
    c.join(client, cfg.id)
    return _welcome(c, cfg.id)


def sso(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    username: str = a["username"]
    cfg = c.directory.agent_by_username(username)
    c.throttle.check(username, c.now, known=cfg is not None)
    try:
        # The token first: whoever cannot sign one learns nothing of which usernames exist.
        verify_token(c.sso_secret, username, a["token"], c.now, c.replay, c.sso_window)
        if cfg is None:
            raise Unauthorized(f"no agent {username!r} on this server")
    except Unauthorized:
        c.throttle.failed(username, c.now, known=cfg is not None)
        raise
    c.throttle.succeeded(username)
    c.join(client, cfg.id)
    return _welcome(c, cfg.id)


def logout(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    me = c.require(agent)
    if c.agent_calls.get(me):
        raise InvalidState("hang up or transfer your calls before logging out")
    c.end_session(me)
    return None


def _phones(c: Center, me: AgentId) -> list[dict[str, Any]]:
    """The agent's own phones not held by someone else, and the one it holds (CONTRACT §5,
    ``listDevices``); never every phone of the center: that is no agent's business, and it
    made each login cost as much as the center is large."""
    session = c.sessions.get(me)
    held = [session.line] if session is not None and session.line is not None else []
    own = [ln for ln in c.agents[me].config.lines if ln not in held]
    mine = [ln for ln in held + own if ln in c.directory.lines]
    return phones_wire(c.directory, [ln for ln in mine if c.line_owner.get(ln) in (None, me)])


def select_identifier(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    me = c.require(agent)
    identifier: str = a["identifier"].strip()
    if identifier == SOFTPHONE:
        if not c.media_available:
            raise MediaUnavailable("no media engine is running: the softphone cannot be used")
        line_id = softphone_line(me)
    else:
        line = c.directory.line_by_identifier(identifier)
        if line is None:
            raise NotFound(f"no phone with identifier {identifier!r}")
        line_id = line.id
    owner = c.line_owner.get(line_id)
    if owner is not None and owner != me:
        raise InvalidState(f"phone {identifier!r} is in use by another agent")
    s = c.sessions[me]
    if s.line is not None and s.line != line_id and c.agent_calls.get(me):
        raise InvalidState("cannot change phones during a call")
    if s.line is not None and s.line != line_id and c.line_owner.get(s.line) == me:
        del c.line_owner[s.line]
    c.line_owner[line_id] = me
    s.phase, s.identifier, s.line = Phase.DEVICE, identifier, line_id
    c.session_changed(me)
    return {"identifier": identifier, "line": line_id, "phones": _phones(c, me)}


def provision(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    me = c.require(agent)
    s = c.sessions[me]
    if s.identifier == SOFTPHONE and not c.media_available:
        raise MediaUnavailable("no media engine is running: the softphone cannot be used")
    if s.phase is Phase.IDENTIFY:
        if s.last_identifier is None:
            raise InvalidState("choose a phone first (selectIdentifier)")
        select_identifier(c, client, agent, {"identifier": s.last_identifier})
    s.phase = Phase.READY
    c.session_changed(me)
    c.out.agents_touched.add(me)
    registration.warn_unregistered(c, me)
    return _state_object(c, me)


def identify(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    me = c.require(agent)
    if c.agent_calls.get(me):
        raise InvalidState("cannot change phones during a call")
    s = c.sessions[me]
    if s.line is not None and c.line_owner.get(s.line) == me:
        del c.line_owner[s.line]
    s.last_identifier = s.identifier or s.last_identifier
    s.phase, s.identifier, s.line = Phase.IDENTIFY, None, None
    c.session_changed(me)
    c.out.agents_touched.add(me)
    return {"phones": _phones(c, me)}


def change_status(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    me = c.require(agent)
    status: Status = a["status"]
    reason: str | None = a["reason"]
    check_status(status, reason, c.directory.aux_reasons)
    c.set_status(me, status, reason)
    return user_wire(c.agents[me], c.directory, c.sessions.get(me), c.now)


def _membership_queue(c: Center, me: AgentId, queue: int) -> QueueId:
    q = QueueId(queue)
    if c.agents[me].config.membership(q) is None or q not in c.directory.queues:
        raise NotFound(f"queue {queue} is not one of your queues")
    return q


def suspend(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    me = c.require(agent)
    q = _membership_queue(c, me, a["queue"])
    c.agents[me].suspended.add(q)
    c.out.agents_touched.add(me)
    return user_wire(c.agents[me], c.directory, c.sessions.get(me), c.now)["queues"][q]


def resume(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    me = c.require(agent)
    q = _membership_queue(c, me, a["queue"])
    c.agents[me].suspended.discard(q)
    c.out.agents_touched.add(me)
    return user_wire(c.agents[me], c.directory, c.sessions.get(me), c.now)["queues"][q]


def _my_line(c: Center, me: AgentId) -> LineId:
    line = c.sessions[me].line
    if line is None:
        raise InvalidState("no phone is paired")
    return line


def answer(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    me = c.require(agent)
    line = _my_line(c, me)
    ringing = [
        call
        for call in c.book.calls_of(me)
        if call.side_of(me) is Side.OFFERED
        or (
            call.side_of(me) is Side.CONNECTED
            and call.state is CallState.RINGING
            and call.callback_to is None  # a callback rings the number called back
        )
    ]
    if not ringing:
        raise InvalidState("no call is ringing")
    call = ringing[0]
    for other in c.book.calls_of(me):
        if (
            other is not call
            and other.state is CallState.CONNECTED
            and other.side_of(me) in (Side.CALLER, Side.CONNECTED)
        ):
            other.move(CallState.HELD)
            c.out.effects.append(Hold(other.uniqueid, line))
            c.book.touch(other)
    call.asked_by = me
    if call.callback_to is not None:  # the server dials the number to call back
        callback.accept(c, call, call.offers[me])
    else:
        c.out.effects.append(PickUp(call.uniqueid, line))
    return c.book.view(call, me)


def _focus(c: Center, me: AgentId) -> Call:
    call = c.book.focus(me)
    if call is None:
        raise InvalidState("you have no call")
    return call


def hangup(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    me = c.require(agent)
    if c.book.focus(me) is None and monitoring.end(c, me):
        return None  # a supervisor stops listening (or barging): the call goes on
    call = _focus(c, me)
    side = call.side_of(me)
    if side is Side.OFFERED:
        c.book.reject_offer(call, call.offers[me])
    elif side is Side.CONNECTED and call.state is CallState.RINGING and call.callback_to is None:
        c.book.end_call(call, Cause.REJECTED)
    else:
        c.book.end_call(call, Cause.CALLER_HANGUP if side is Side.CALLER else Cause.CALLED_HANGUP)
    return None


def _talking(c: Center, me: AgentId, *, verb: str) -> Call:
    call = _focus(c, me)
    if call.side_of(me) not in (Side.CALLER, Side.CONNECTED) or call.state not in (
        CallState.CONNECTED,
        CallState.HELD,
    ):
        raise InvalidState(f"cannot {verb} a call that is {call.state.name.lower()}")
    return call


def hold(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    me = c.require(agent)
    call = _talking(c, me, verb="hold")
    if call.state is CallState.HELD:
        raise InvalidState("the call is already held")
    call.move(CallState.HELD)
    call.asked_by = me
    c.out.effects.append(Hold(call.uniqueid, _my_line(c, me)))
    c.book.touch(call)
    return c.book.view(call, me)


def unhold(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    me = c.require(agent)
    mine = c.book.calls_of(me)
    if any(x.state is CallState.CONNECTED and x.side_of(me) is not Side.OFFERED for x in mine):
        raise InvalidState("hold or hang up the current call first")
    waiting = [
        x
        for x in mine
        if x.state in (CallState.HELD, CallState.SUSPENDED) and x.side_of(me) is not Side.OFFERED
    ]
    if not waiting:
        raise InvalidState("no call is on hold")
    call = max(waiting, key=lambda x: (x.state is CallState.SUSPENDED, x.created))
    if call.consultation is not None:
        raise InvalidState("hang up the consultation call first")
    if call.pending is not None:
        raise InvalidState("the call is being transferred")
    call.move(CallState.CONNECTED)
    call.asked_by = me
    c.out.effects.append(Unhold(call.uniqueid, _my_line(c, me)))
    c.book.touch(call)
    return c.book.view(call, me)


def mute(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    me = c.require(agent)
    call = _talking(c, me, verb="mute")
    if call.side_of(me) is Side.CALLER:
        call.caller = call.caller.with_muted(not call.caller.muted)
        muted = call.caller.muted
    else:
        assert call.connected_party is not None
        call.connected_party = call.connected_party.with_muted(not call.connected_party.muted)
        muted = call.connected_party.muted
    call.asked_by = me
    c.out.effects.append(Mute(call.uniqueid, _my_line(c, me), muted))
    c.book.touch(call)
    return c.book.view(call, me)


def dial(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    me = c.require(agent)
    line = _my_line(c, me)
    if a["line"] is not None and a["line"] != line:
        raise NotFound(f"line {a['line']} is not your line (yours is {line})")
    consult_for = transfer.suspended_without_consultation(c, me)
    busy = [
        x
        for x in c.book.calls_of(me)
        if x.state not in (CallState.HELD, CallState.SUSPENDED) or x.side_of(me) is Side.OFFERED
    ]
    if busy:
        raise InvalidState("hold, transfer or hang up the current call before dialling")
    outbound = None if consult_for is not None else _campaign(c, me, a["queue"])
    plan = transfer.plan_target(c, me, a["number"])
    call = transfer.originate(c, me, line, plan, data=a["data"])
    if outbound is not None:
        call.outbound_id = outbound
    if plan.line is None and plan.queue is None:  # an outside number: the CRM is asked
        telephony.ask_outgoing(c, call)
    if consult_for is not None:
        consult_for.consultation = call.uniqueid
        call.consult_for = consult_for.uniqueid
        c.book.touch(consult_for)
    c.book.touch(call)
    return c.book.view(call, me)


def _campaign(c: Center, me: AgentId, queue: int | str) -> QueueId | None:
    """The outgoing queue a call is dialled under (``None``: a direct call)."""
    mine = [
        m.queue
        for m in c.agents[me].config.memberships
        if (q := c.directory.queues.get(m.queue)) is not None and q.type is QueueType.OUTGOING
    ]
    if queue == "directCall":
        return None
    if queue == "undefined":
        return mine[0] if len(mine) == 1 else None
    assert isinstance(queue, int)
    q = c.directory.queues.get(QueueId(queue))
    if q is None or c.agents[me].config.membership(QueueId(queue)) is None:
        raise NotFound(f"queue {queue} is not one of your queues")
    if q.type is not QueueType.OUTGOING:
        raise InvalidArgument(f"queue {queue} is an incoming queue; dial needs a campaign")
    return q.id


def account_code(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    me = c.require(agent)
    call = c.book.participated(me, a["uniqueid"])
    if call is None:
        raise NotFound(f"no call {a['uniqueid']!r} of yours")
    # Checked against the list of the call's queue before anything changes.
    code = dispositions.account_code(
        call, c.directory.queues, a["accountCode"], a["subAccountCode"]
    )
    if a["override"]:
        call.account_codes = [code]
    else:
        call.account_codes.append(code)
    if call.ended:
        c.out.effects.append(c.book.record(call, again=True))
    return [x.wire() for x in call.account_codes]


def state(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    return _state_object(c, c.require(agent))


def ringing_sound(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    me = c.require(agent)
    c.sessions[me].ringing_sound = a["ringingSound"]
    c.session_changed(me)
    return a["ringingSound"]


def set_theme(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    if agent is not None and agent in c.sessions:
        c.sessions[agent].theme = a["theme"]
        c.session_changed(agent)
    return a["theme"]


def local(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    """Methods the component carries out alone; the server only checks their arguments."""
    return None


HANDLERS: dict[str, Handler] = {
    "login": login,
    "sso": sso,
    "logout": logout,
    "selectIdentifier": select_identifier,
    "provision": provision,
    "identify": identify,
    "changeStatus": change_status,
    "suspend": suspend,
    "resume": resume,
    "answer": answer,
    "dial": dial,
    "hangup": hangup,
    "transfer": transfer.start,
    "finishTransfer": transfer.finish,
    "blindTransfer": transfer.blind,
    "hold": hold,
    "unhold": unhold,
    "mute": mute,
    "setAccountCode": account_code,
    "dispositions": dispositions.offered,
    "state": state,
    "selectRingingSound": ringing_sound,
    "testRingingSound": local,
    "stopRingingSoundTest": local,
    "notify": local,
    "setTheme": set_theme,
    "directory": phonebook.directory,
}
