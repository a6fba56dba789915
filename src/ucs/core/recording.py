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
softphone, or a desk phone whose call the switch anchored (``anchoring.py``: told per call by
``AudioAnchored``), an engine running, and the server able to make recordings (the media plane
decides at its start whether their tools are installed, ``MediaStatus.recording``); otherwise
``startRecording()`` is ``MEDIA_UNAVAILABLE``, and an ``always`` call records nothing: its
``recorded`` stays false and an ``Unrecorded`` effect says why (logged, counted in
``/metrics``). A desk phone's ``always`` call answered before its switch said whether its audio
is in the engine begins its recording when the switch says yes (``on_audio_anchored``): the
agent's phone is anchored just after it answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ucs.core.anchoring import audio_here
from ucs.core.call import Call
from ucs.core.effects import Push, Record, Unrecorded
from ucs.core.errors import Forbidden, InvalidState, MediaUnavailable
from ucs.core.events import AudioAnchored
from ucs.core.ids import AgentId, ClientId
from ucs.core.model import CallState, Side

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["HANDLERS", "connected", "mode_of", "on_audio_anchored"]


def mode_of(c: Center, call: Call) -> str:
    """The recording mode that rules ``call``: its queue's (or the campaign's it was dialled
    under); ``on_demand`` for a call of no queue."""
    queue = call.home_queue
    config = c.directory.queues.get(queue) if queue is not None else None
    return config.recording if config is not None else "on_demand"


def _agent(call: Call) -> AgentId | None:
    """The agent whose side the call's recording is (the one connected, or who dialled)."""
    for party in (call.connected_party, call.caller):
        if party is not None and party.user_id is not None:
            return AgentId(party.user_id)
    return None


def _set(c: Center, call: Call, agent: AgentId, on: bool) -> None:
    if call.recording == on:
        return
    call.recording = on
    if on:
        call.recorded = True
    username = c.agents[agent].config.username
    c.out.effects.append(Record(call.uniqueid, on, (int(agent), username), call.home_queue))
    c.out.effects.append(
        Push(agent, "call.recording", {"uniqueid": call.uniqueid, "recording": on})
    )
    c.book.touch(call)


def connected(c: Center, call: Call) -> None:
    """The call was answered: a call of an ``always`` queue is recorded from now on (or is
    said to be unrecorded, and why)."""
    if call.recording or mode_of(c, call) != "always":
        return
    agent = _agent(call)
    audio = audio_here(c, agent, call) if agent is not None else False
    if audio is None:  # a desk phone's call being anchored: decided when the switch says
        return
    if agent is None or not audio:
        c.out.effects.append(Unrecorded(call.uniqueid, call.home_queue, "no_audio"))
    elif not c.recording_available:
        c.out.effects.append(Unrecorded(call.uniqueid, call.home_queue, "no_tools"))
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
    audio = audio_here(c, me, call)
    if audio is None:
        raise MediaUnavailable("the call's audio is not in the media engine yet: try again")
    if not audio:
        raise MediaUnavailable(
            "only calls whose audio is in the media engine are recorded (the softphone, "
            "or desk phones with --switch sip whose call could be anchored)"
        )
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


def on_audio_anchored(c: Center, ev: AudioAnchored) -> None:
    """The switch said whether the audio of ``ev.uniqueid`` is in the engine (``anchoring``).
    Its first word is kept (a call that could not be anchored is never anchored later; one
    whose new leg fails, at a transfer, ends) and, on a connected call, decides an ``always``
    recording that waited for it."""
    call = c.calls.get(ev.uniqueid)
    if call is None or call.anchored is not None:
        return
    call.anchored = ev.anchored
    if call.state in (CallState.CONNECTED, CallState.HELD):
        connected(c, call)
    c.book.touch(call)


HANDLERS = {"startRecording": start_recording, "stopRecording": stop_recording}
"""The recording methods (CONTRACT §10), beside ``methods.HANDLERS``."""
