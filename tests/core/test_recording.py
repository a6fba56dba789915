"""Recording, as the core decides it (CONTRACT §10): the queue's ``recording`` mode,
``startRecording()`` / ``stopRecording()`` with their refusals, ``recorded`` in the Call object
and the call records, the ``Record`` effects the media adapter carries out and the
``call.recording`` pushes the component's indicator shows."""

from __future__ import annotations

import dataclasses

import pytest

from tests.core.helpers import custom, member_of, queue_config
from ucs.core.directory import Strategy
from ucs.core.effects import CallRecord, Record, Unrecorded
from ucs.core.errors import Forbidden, InvalidState, MediaUnavailable
from ucs.core.events import AudioAnchored, MediaStatus
from ucs.core.ids import ClientId, UniqueId
from ucs.virtual import VirtualCenter


def _center(recording: str) -> VirtualCenter:
    q = dataclasses.replace(queue_config(1, Strategy.LONGEST_IDLE), recording=recording)
    vc = custom([q], {1: member_of(1), 2: member_of(1)})
    vc.feed(MediaStatus(True))
    return vc


def _records(vc: VirtualCenter, uid: UniqueId) -> list[bool]:
    return [e.on for e in vc.effects if isinstance(e, Record) and e.uniqueid == uid]


def _talking(vc: VirtualCenter, identifier: str = "softphone") -> tuple[ClientId, UniqueId]:
    client = vc.agent_ready("agent1", "agent1-pass", identifier)
    uid = vc.caller(1)
    vc.call(client, "answer")
    return client, uid


def test_on_demand_records_pauses_and_goes_on_in_the_same_recording() -> None:
    vc = _center("on_demand")
    client, uid = _talking(vc)
    assert vc.center.calls[uid].recorded is False and _records(vc, uid) == []
    call = vc.call(client, "startRecording")
    assert call["recorded"] is True
    record = next(e for e in vc.effects if isinstance(e, Record))
    assert (record.agent, record.queue) == ((1, "agent1"), 1)
    vc.call(client, "startRecording")  # already recording: nothing more
    paused = vc.call(client, "stopRecording")
    assert paused["recorded"] is True  # some of it was recorded
    vc.call(client, "stopRecording")
    vc.call(client, "startRecording")
    assert _records(vc, uid) == [True, False, True]
    pushes = [m["recording"] for m in vc.messages(client, "call.recording")]
    assert pushes == [True, False, True]
    vc.call(client, "hangup")
    final = [e for e in vc.effects if isinstance(e, CallRecord) and not e.live]
    assert final[-1].call["recorded"] is True


def test_always_records_from_the_answer() -> None:
    vc = _center("always")
    client, uid = _talking(vc)
    assert _records(vc, uid) == [True]
    assert vc.center.calls[uid].recorded is True
    pushed = vc.messages(client, "call.recording")[-1]
    assert (pushed["uniqueid"], pushed["recording"]) == (uid, True)
    vc.call(client, "stopRecording")  # a pause is allowed: a card number is read
    assert _records(vc, uid) == [True, False]


def test_never_refuses_and_changes_nothing() -> None:
    vc = _center("never")
    client, uid = _talking(vc)
    with pytest.raises(Forbidden):
        vc.call(client, "startRecording")
    assert vc.center.calls[uid].recorded is False and _records(vc, uid) == []


def test_refusals_without_a_connected_call_or_without_audio() -> None:
    vc = _center("always")
    client = vc.agent_ready("agent1", "agent1-pass", "softphone")
    with pytest.raises(InvalidState):
        vc.call(client, "startRecording")
    with pytest.raises(InvalidState):
        vc.call(client, "stopRecording")
    uid = vc.caller(1)
    with pytest.raises(InvalidState):  # ringing, not connected
        vc.call(client, "startRecording")
    assert _records(vc, uid) == []


@pytest.mark.parametrize("engine", [True, False])
def test_a_call_whose_audio_is_in_no_engine_is_not_recorded(engine: bool) -> None:
    """A desk phone (or a softphone whose engine failed): always records nothing, and
    startRecording is MEDIA_UNAVAILABLE."""
    vc = _center("always")
    client, uid = _talking(vc, "phone1" if engine else "softphone")
    if not engine:
        vc.call(client, "hangup")
        vc.feed(MediaStatus(False))
        uid = vc.caller(1)
        vc.call(client, "answer")
    assert _records(vc, uid) == [] and vc.center.calls[uid].recorded is False
    unrecorded = [e for e in vc.effects if isinstance(e, Unrecorded) and e.uniqueid == uid]
    assert unrecorded == [Unrecorded(uid, 1, "no_audio")]
    with pytest.raises(MediaUnavailable):
        vc.call(client, "startRecording")


@pytest.mark.parametrize("mode", ["always", "on_demand"])
def test_an_engine_without_the_recording_tools_records_nothing(mode: str) -> None:
    """The media plane said at its start that recordings cannot be made: the softphone works,
    ``always`` records nothing (``Unrecorded`` says why) and ``startRecording`` is refused."""
    q = dataclasses.replace(queue_config(1, Strategy.LONGEST_IDLE), recording=mode)
    vc = custom([q], {1: member_of(1)})
    vc.feed(MediaStatus(True, recording=False))
    client, uid = _talking(vc)
    call = vc.center.calls[uid]
    assert call.recorded is False and call.recording is False and _records(vc, uid) == []
    unrecorded = [e for e in vc.effects if isinstance(e, Unrecorded)]
    assert unrecorded == ([Unrecorded(uid, 1, "no_tools")] if mode == "always" else [])
    with pytest.raises(MediaUnavailable):
        vc.call(client, "startRecording")
    assert vc.center.calls[uid].recorded is False and _records(vc, uid) == []
    vc.call(client, "hangup")
    final = [e for e in vc.effects if isinstance(e, CallRecord) and not e.live]
    assert final[-1].call["recorded"] is False


@pytest.mark.parametrize("mode", ["always", "on_demand"])
def test_desk_phones_are_recorded_when_the_switch_anchors_their_audio(mode: str) -> None:
    """``--switch sip`` with an engine (``MediaStatus.phones``): a desk phone's call is
    recorded as the softphone's once the switch says its audio is in the engine
    (``AudioAnchored``, just after the phone answers); once the engine is gone, not."""
    q = dataclasses.replace(queue_config(1, Strategy.LONGEST_IDLE), recording=mode)
    vc = custom([q], {1: member_of(1), 2: member_of(1)})
    vc.feed(MediaStatus(True, phones=True))
    client, uid = _talking(vc, "phone1")
    assert _records(vc, uid) == []  # answered, not anchored yet: nothing decided
    with pytest.raises(MediaUnavailable):
        vc.call(client, "startRecording")
    vc.feed(AudioAnchored(uid, True))
    if mode == "on_demand":
        assert _records(vc, uid) == []
        vc.call(client, "startRecording")
    assert _records(vc, uid) == [True] and vc.center.calls[uid].recorded is True
    vc.feed(AudioAnchored(uid, True))  # said again (a transfer's new leg): nothing more
    vc.call(client, "stopRecording")
    assert _records(vc, uid) == [True, False]
    vc.call(client, "hangup")
    vc.feed(MediaStatus(False, phones=True))
    later = vc.caller(1)
    vc.call(client, "answer")
    vc.feed(AudioAnchored(later, True))
    with pytest.raises(MediaUnavailable):
        vc.call(client, "startRecording")
    assert _records(vc, later) == []


@pytest.mark.parametrize("mode", ["always", "on_demand"])
def test_a_desk_phones_call_the_switch_could_not_anchor_is_not_recorded(mode: str) -> None:
    """The switch says this call's audio is not in the engine (its SDP had no G.711): an
    ``always`` call is unrecorded (``no_audio``), ``startRecording`` is MEDIA_UNAVAILABLE, and
    ``recorded`` stays false in the Call object and the call record; the next call, anchored,
    is recorded."""
    q = dataclasses.replace(queue_config(1, Strategy.LONGEST_IDLE), recording=mode)
    vc = custom([q], {1: member_of(1)})
    vc.feed(MediaStatus(True, phones=True))
    client = vc.agent_ready("agent1", "agent1-pass", "phone1")
    uid = vc.caller(1)
    vc.feed(AudioAnchored(uid, False))  # (said when the caller's INVITE came)
    vc.call(client, "answer")
    unrecorded = [e for e in vc.effects if isinstance(e, Unrecorded) and e.uniqueid == uid]
    assert unrecorded == ([Unrecorded(uid, 1, "no_audio")] if mode == "always" else [])
    with pytest.raises(MediaUnavailable):
        vc.call(client, "startRecording")
    assert vc.call(client, "state")["call"]["recorded"] is False
    vc.call(client, "hangup")
    final = [e for e in vc.effects if isinstance(e, CallRecord) and not e.live]
    assert final[-1].call["recorded"] is False and _records(vc, uid) == []
    vc.call(client, "changeStatus", "READY")
    anchored = vc.caller(1)
    vc.call(client, "answer")
    vc.feed(AudioAnchored(anchored, True))
    if mode == "on_demand":
        vc.call(client, "startRecording")
    assert _records(vc, anchored) == [True]
