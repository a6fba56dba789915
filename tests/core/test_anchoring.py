"""Per-call anchoring of a desk phone's audio (``AudioAnchored``, CONTRACT §10), as the core
keeps it: random sequences of callers, answers, the switch's word on each call (before or after
the answer, yes or no, repeated), recording asked and paused, hold, hang-ups and the engine
going away and back. After every step: no call is ``recorded`` (nor recording) whose audio
the switch did not say was in the engine; a call that was anchored, answered in an ``always``
queue with the engine up throughout, is recorded; a call that is not is said unrecorded."""

from __future__ import annotations

import dataclasses

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tests.core.helpers import custom, member_of, queue_config
from ucs.core.directory import Strategy
from ucs.core.effects import Record, Unrecorded
from ucs.core.errors import UcsError
from ucs.core.events import AudioAnchored, MediaStatus
from ucs.core.ids import ClientId, UniqueId
from ucs.core.model import CallState
from ucs.virtual import VirtualCenter


class AnchoringMachine(RuleBasedStateMachine):
    vc: VirtualCenter
    client: ClientId
    mode: str

    @initialize(mode=st.sampled_from(["always", "on_demand"]))
    def setup(self, mode: str) -> None:
        q = dataclasses.replace(queue_config(1, Strategy.LONGEST_IDLE), recording=mode)
        self.vc = custom([q], {1: member_of(1)})
        self.vc.feed(MediaStatus(True, phones=True))
        self.client = self.vc.agent_ready("agent1", "agent1-pass", "phone1")
        self.mode = mode
        self.engine_up = True
        self.said: dict[UniqueId, list[bool]] = {}
        """What the switch said of each call, in order."""
        self.steady: set[UniqueId] = set()
        """Calls during which the engine never went away."""
        self.recorded_on: set[UniqueId] = set()
        self.unrecorded: set[UniqueId] = set()

    def _live(self) -> UniqueId | None:
        calls = list(self.vc.center.calls)
        return calls[-1] if calls else None

    def _feed(self, event: object) -> None:
        self._note(self.vc.feed(event))  # type: ignore[arg-type]

    def _note(self, effects: list[object]) -> None:
        for e in effects:
            if isinstance(e, Record) and e.on:
                self.recorded_on.add(e.uniqueid)
            elif isinstance(e, Unrecorded):
                self.unrecorded.add(e.uniqueid)

    def _act(self, method: str) -> None:
        mark = len(self.vc.effects)
        try:
            self.vc.call(self.client, method)
        except UcsError:
            pass
        self._note(self.vc.effects[mark:])

    @rule()
    def caller_arrives(self) -> None:
        if self._live() is None:
            try:
                self.vc.call(self.client, "changeStatus", "READY")
            except UcsError:
                pass
            mark = len(self.vc.effects)
            uid = self.vc.caller(1)
            self._note(self.vc.effects[mark:])
            if self.engine_up:
                self.steady.add(uid)

    @rule(anchored=st.booleans())
    def switch_says(self, anchored: bool) -> None:
        uid = self._live()
        if uid is not None:
            self.said.setdefault(uid, []).append(anchored)
            self._feed(AudioAnchored(uid, anchored))

    @rule(method=st.sampled_from(["answer", "startRecording", "stopRecording", "hold", "unhold"]))
    def agent_does(self, method: str) -> None:
        self._act(method)

    @rule()
    def hang_up(self) -> None:
        self._act("hangup")

    @rule(up=st.booleans())
    def engine(self, up: bool) -> None:
        if up != self.engine_up:
            self.engine_up = up
            self.steady.clear()
            self._feed(MediaStatus(up, phones=True))

    @invariant()
    def only_anchored_calls_are_recorded(self) -> None:
        for uid in self.recorded_on:
            said = self.said.get(uid, [])
            assert said and said[0] is True, (uid, said)
        for call in [*self.vc.center.calls.values(), *self.vc.center.ended.values()]:
            if call.recorded or call.recording:
                assert call.uniqueid in self.recorded_on

    @invariant()
    def an_always_call_is_recorded_or_said_unrecorded(self) -> None:
        if self.mode != "always":
            return
        for call in self.vc.center.calls.values():
            if call.connected_at is None or call.state not in (CallState.CONNECTED, CallState.HELD):
                continue
            said = self.said.get(call.uniqueid, [])
            if not said:
                assert call.uniqueid not in self.recorded_on  # waits for the switch's word
            elif said[0] is False:
                assert call.uniqueid in self.unrecorded and not call.recorded
            elif call.uniqueid in self.steady:
                assert call.recorded


AnchoringMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None
)
test_anchoring = AnchoringMachine.TestCase
