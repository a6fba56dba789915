"""Recording calls (CONTRACT §10): what the core decides; the media adapter records.

A queue's ``recording`` is ``never`` (the default), ``always`` (every call of the queue is
recorded from its answer) or ``on_demand``: the agent's ``startRecording()`` records the
connected call in focus and ``stopRecording()`` pauses (a card number is being read);
``startRecording()`` again goes on in the same recording. Calls of no queue (an agent's own
dial) may be recorded on demand. The core keeps whether a call is being recorded
(``Call.recording``) and whether any of it was (``Call.recorded``, in the Call object and the
call records), says so with a ``Record`` effect that the media adapter carries out, and tells
the agent's tabs with a ``call.recording`` push (the component's indicator).

Only audio anchored in the media engine can be recorded: the agent's side must be the
softphone, an engine running, and the server able to make recordings (the media plane decides
at its start whether their tools are installed, ``MediaStatus.recording``); otherwise
``startRecording()`` is ``MEDIA_UNAVAILABLE``, and an ``always`` call records nothing: its
``recorded`` stays false and an ``Unrecorded`` effect says why (logged, counted in
``/metrics``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ucs.core.call import Call
from ucs.core.effects import Push, Record, Unrecorded
from ucs.core.errors import Forbidden, InvalidState, MediaUnavailable
from ucs.core.ids import AgentId, ClientId
from ucs.core.model import CallState, Side
from ucs.core.softphone import is_softphone

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["HANDLERS", "connected", "mode_of"]


def mode_of(c: Center, call: Call) -> str:
    """The recording mode that rules ``call``: its queue's (or the campaign's it was dialled
    under); ``on_demand`` for a call of no queue."""
    queue = call.queue_id if call.queue_id is not None else call.outbound_id
    config = c.directory.queues.get(queue) if queue is not None else None
    return config.recording if config is not None else "on_demand"


def _agent(call: Call) -> AgentId | None:
    """The agent whose side the call's recording is (the one connected, or who dialled)."""
    for party in (call.connected_party, call.caller):
        if party is not None and party.user_id is not None:
            return AgentId(party.user_id)
    return None


def _has_audio(c: Center, agent: AgentId) -> bool:
    session = c.sessions.get(agent)
    return c.media_available and session is not None and is_softphone(session.line)


def _set(c: Center, call: Call, agent: AgentId, on: bool) -> None:
    if call.recording == on:
        return
    call.recording = on
    if on:
        call.recorded = True
    username = c.agents[agent].config.username
    c.out.effects.append(Record(call.uniqueid, on, (int(agent), username), _queue(call)))
    c.out.effects.append(
        Push(agent, "call.recording", {"uniqueid": call.uniqueid, "recording": on})
    )
    c.book.touch(call)


def _queue(call: Call) -> int | None:
    return call.queue_id if call.queue_id is not None else call.outbound_id


def connected(c: Center, call: Call) -> None:
    """The call was answered: a call of an ``always`` queue is recorded from now on (or is
    said to be unrecorded, and why)."""
    if call.recording or mode_of(c, call) != "always":
        return
    agent = _agent(call)
    if agent is None or not _has_audio(c, agent):
        c.out.effects.append(Unrecorded(call.uniqueid, _queue(call), "no_audio"))
    elif not c.recording_available:
        c.out.effects.append(Unrecorded(call.uniqueid, _queue(call), "no_tools"))
    else:
        _set(c, call, agent, True)


def _connected_call(c: Center, me: AgentId, verb: str) -> Call:
    call = c.book.focus(me)
    if call is None:
        raise InvalidState("you have no call")
    if call.side_of(me) not in (Side.CALLER, Side.CONNECTED) or call.state not in (
        CallState.CONNECTED,
        CallState.HELD,
    ):
        raise InvalidState(f"cannot {verb} a call that is {call.state.name.lower()}")
    return call


def start_recording(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    me = c.require(agent)
    call = _connected_call(c, me, "record")
    if mode_of(c, call) == "never":
        raise Forbidden("the calls of this queue are never recorded")
    if not _has_audio(c, me):
        raise MediaUnavailable("only calls on the softphone, with a media engine, are recorded")
    if not c.recording_available:
        raise MediaUnavailable(
            "this server cannot make recordings: its recording tools are missing"
        )
    _set(c, call, me, True)
    return c.book.view(call, me)


def stop_recording(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    me = c.require(agent)
    call = _connected_call(c, me, "pause the recording of")
    _set(c, call, me, False)
    return c.book.view(call, me)


HANDLERS = {"startRecording": start_recording, "stopRecording": stop_recording}
"""The recording methods (CONTRACT §10), beside ``methods.HANDLERS``."""
