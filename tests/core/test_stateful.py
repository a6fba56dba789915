"""Stateful (rule-based) tests of the core: random sessions, calls, switch failures and time.

Three machines:

- ``CenterMachine`` drives a whole ``VirtualCenter`` (the core and the simulated switch on a
  virtual clock) with agents logging in and out, pairing phones, changing status, callers
  arriving and hanging up, agents answering, holding, dialling and transferring, the switch
  failing, administration reshuffling the queues, and time passing (across midnight too).
  After every step it checks the invariants of ``docs/core.md``: the statistics partition time,
  offers go to free agents only, no caller waits while a free member could take it, calls are
  indexed and recorded consistently, phones are held by one agent, refused commands change
  nothing, call ids and uniqueids are sound.
- ``AgentMachine`` checks ``Agent`` accrual in isolation against a log of activity segments.
- ``ThrottleMachine`` checks login throttling against a model of failures per known username
  and one bucket shared by every failure.

Rules pick agents mostly among those for whom the click means something (on a call, ringing,
choosing a phone) and dial colleagues by what they are doing (``COLLEAGUES``), so that the
interesting interleavings come up within the time budget (about 25 s for the file).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from tests.conftest import MORNING, PRAGUE
from tests.core.helpers import amended_team, without_clock
from ucs.core import supervision
from ucs.core.agent import Activity, Agent, DayStats
from ucs.core.call import Call
from ucs.core.center import Center
from ucs.core.directory import (
    AgentConfig,
    Directory,
    LineConfig,
    Membership,
    QueueConfig,
    QueueType,
    Strategy,
)
from ucs.core.effects import CallRecord, Refuse, Reply, StatusRecord, SwitchEffect
from ucs.core.errors import TooManyAttempts, UcsError
from ucs.core.events import (
    Attach,
    CallbackRequested,
    Command,
    Disconnect,
    Dtmf,
    HungUp,
    Kept,
    LookedUp,
    LookupSettings,
    Operation,
    Reconfigure,
    Registration,
    Registrations,
    SwitchFailed,
    TrunkCall,
)
from ucs.core.ids import AgentId, ClientId, LineId, QueueId, RequestId, UniqueId
from ucs.core.lookup import Answer
from ucs.core.model import CallState, Cause, Phase, Status
from ucs.core.session import Throttle
from ucs.switch.simulated import OPERATIONS
from ucs.virtual import VirtualCenter

TOL = 1e-6
REFUSED = object()
"""What a command the core refused returns in these tests."""
_LIVE = (CallState.CONNECTED, CallState.HELD, CallState.SUSPENDED)

# ---------------------------------------------------------------------------------- directory

AGENTS = 5
SLOTS = 6
"""Connections the center machine keeps open (an agent may have several, like tabs)."""
PASSWORDS = {f"agent{i}": f"pass{i}" for i in range(1, AGENTS + 1)}
AUX_REASONS = ("Lunch", "Break", "Meeting", "Training")


def center_directory(support: Strategy, *, reshuffled: bool = False) -> Directory:
    """Five agents on five phones, Support (``support`` strategy, wrap-up 10 s, heavier),
    Sales (ring-all, no wrap-up) and a campaign. Agent 4 supervises Support, agent 5 Sales.
    ``reshuffled``: agent 2 supervises Support and sells, agent 3 also supports, 5 s wrap-up,
    and an agent who lets a Support call ring out goes to AUX (Break)."""
    q = QueueId
    lines = {
        LineId(i): LineConfig(LineId(i), f"phone{i}", f"100{i}", f"Phone {i}")
        for i in range(1, AGENTS + 1)
    }
    queues = {
        q(1): QueueConfig(
            q(1),
            "Support",
            QueueType.INCOMING,
            support,
            ring_timeout=15.0,
            wrapup=5.0 if reshuffled else 10.0,
            weight=1,
            number="100",
            rona_reason="Break" if reshuffled else None,  # ring no answer → AUX, when reshuffled
            callback_offer=not reshuffled,  # callers may press 1 (CONTRACT §12), until reshuffled
        ),
        q(2): QueueConfig(
            q(2), "Sales", QueueType.INCOMING, Strategy.RING_ALL, 12.0, 0.0, number="200"
        ),
        q(3): QueueConfig(q(3), "Campaign", QueueType.OUTGOING),
    }
    memberships: dict[int, tuple[Membership, ...]] = {
        1: (Membership(q(1), priority=2), Membership(q(2)), Membership(q(3))),
        2: (Membership(q(1), priority=1), Membership(q(3))),
        3: (Membership(q(2)),),
        4: (Membership(q(1), supervisor=True), Membership(q(2), priority=2)),
        5: (Membership(q(1), priority=3), Membership(q(2), supervisor=True), Membership(q(3))),
    }
    if reshuffled:
        memberships[2] = (Membership(q(1), supervisor=True), Membership(q(2)), Membership(q(3)))
        memberships[3] = (Membership(q(1), priority=1), Membership(q(2)))
    agents = {
        AgentId(i): AgentConfig(
            id=AgentId(i),
            username=f"agent{i}",
            firstname=f"Agent{i}",
            group_id=1,
            memberships=memberships[i],
            lines=(LineId(i),),
        )
        for i in range(1, AGENTS + 1)
    }
    return Directory(agents=agents, lines=lines, queues=queues, aux_reasons=AUX_REASONS)


# ---------------------------------------------------------------------------------- strategies

NUMBERS: list[Any] = [
    "1001",
    "1002",
    "1003",
    "1004",
    "1005",
    1003,
    "+420601230001",  # busy
    "+420601230002",  # no answer
    "+420601230003",  # rejected
    "+420601234567",  # answers after 1 s
    "601 234 568",
    "12",  # not a valid number: cause 2
    "9999",
    "abc",  # no digits: refused
    "",
]
COLLEAGUES = [
    "@offered",  # the phone of an agent a queue call rings, when there is one
    "@free",  # the phone of an agent free for queue calls
    "@talking",  # the phone of an agent on a call
    "@unconfirmed",  # the phone of an agent who has chosen it but not confirmed it yet
]
numbers = st.sampled_from(NUMBERS) | st.sampled_from(COLLEAGUES)
"""Numbers to dial or transfer to: half of them a colleague's phone, chosen by what it does."""
slots = st.integers(0, SLOTS - 1)
agent_ids = st.integers(1, AGENTS)
whos = st.integers(0, 9)
"""Who clicks: 0–4 agents 1–5, 5–7 one of the agents on a call, 8–9 one at work."""
busy_whos = st.integers(0, 14)
"""Who clicks a call button: as ``whos``, or 10–14 an agent talking (or at least on a call)."""
choosing_whos = st.integers(0, 4) | st.integers(15, 19)
"""Who chooses a phone: 0–4 agents 1–5, 15–19 one of those choosing (IDENTIFY or DEVICE)."""
picks = st.integers(0, 1_000)
"""An index into a list known only when the rule runs (taken modulo its length)."""


def _last_midnight(now: float) -> float:
    today = datetime.fromtimestamp(now, PRAGUE).date()
    return datetime.combine(today, time(0), tzinfo=PRAGUE).timestamp()


def _activity(c: Center, agent: Agent) -> Activity:
    """What the agent is doing now, computed afresh from its calls."""
    from ucs.core import publish

    return publish.activity(c.book, agent)


def _counters(s: DayStats) -> tuple[Any, ...]:
    """The statistics a command may change at once (times accrue by themselves)."""
    return (
        s.in_calls_answered,
        s.in_calls_unanswered,
        s.out_calls_answered,
        s.out_calls_unanswered,
        s.transferred,
        s.transferred_external,
        sorted(
            (int(q), f.answered, f.unanswered, f.transferred, f.transferred_external)
            for q, f in s.queues.items()
        ),
    )


# ---------------------------------------------------------------------------------- the center


class CenterMachine(RuleBasedStateMachine):
    """A whole contact center driven at random through its public entry points."""

    def __init__(self) -> None:
        super().__init__()
        self.vc: VirtualCenter | None = None
        self.start = MORNING
        self.slots: list[ClientId] = []
        self.requests = 0
        self.seen: dict[UniqueId, Call] = {}
        self.watching: dict[ClientId, tuple[AgentId, dict[str, Any], int]] = {}
        """Supervisors' connections that asked ``team()``: the supervisor, the view it got,
        and how many ``team.changed`` the connection had been told before it."""

    # --- helpers ---------------------------------------------------------------------------

    @property
    def c(self) -> Center:
        assert self.vc is not None
        return self.vc.center

    def describe(self) -> list[str]:
        """Everything a command could change, a line per item (statistics as counters only).

        Plain ``repr``: what a command leaves alone prints the same, set and dict order included.
        """
        c = self.c
        assert self.vc is not None
        lines = [f"session {a}: {s!r}" for a, s in c.sessions.items()]
        lines += [
            f"agent {a.id}: {a.status.value} {a.reason} since {a.status_since} acw "
            f"{a.acw_until} suspended {a.suspended} free {a.free} {a.activity!r} "
            f"{_counters(a.stats)}"
            for a in c.agents.values()
        ]
        lines += [f"call {u}: {x!r}" for u, x in c.calls.items()]
        lines += [f"ended {u}: {x.account_codes!r}" for u, x in c.ended.items()]
        lines += [
            f"phones {c.line_owner}",
            f"connections {c.clients}",
            f"agent calls {c.agent_calls}",
            f"seq {c.book.seq}",
            f"switch ringing {self.vc.switch.ringing}",
        ]
        return lines

    def cmd(self, slot: int, method: str, *args: Any) -> Any:
        """Send a command on a connection; a refusal must leave everything as it was."""
        assert self.vc is not None
        client = self.slots[slot]
        before = self.describe()
        self.requests += 1
        request = RequestId(f"sm-{self.requests}")
        produced = self.vc.feed(Command(client, request, method, list(args)))
        answer = next(e for e in produced if isinstance(e, Reply | Refuse) and e.request == request)
        if isinstance(answer, Refuse):
            acted = [e for e in produced if isinstance(e, SwitchEffect | CallRecord | StatusRecord)]
            assert not acted, f"{method}{tuple(args)!r} was refused but produced {acted}"
            after = self.describe()
            changed = [f"- {x}" for x in before if x not in after]
            changed += [f"+ {x}" for x in after if x not in before]
            assert not changed, (
                f"{method}{tuple(args)!r} was refused ({answer.code}: {answer.message}) "
                "but changed the state:\n" + "\n".join(changed)
            )
            return REFUSED
        return answer.result

    def agent_of(self, who: int) -> AgentId:
        """The agent a ``whos``, ``busy_whos`` or ``choosing_whos`` value names."""
        c = self.c
        talking = sorted(
            {
                p.user_id
                for x in c.calls.values()
                if x.state in (CallState.CONNECTED, CallState.HELD)
                for p in (x.caller, x.connected_party)
                if p is not None and p.user_id is not None
            }
        )
        on_call = sorted(a for a, uids in c.agent_calls.items() if uids)
        at_work = sorted(a for a, s in c.sessions.items() if s.phase is Phase.READY)
        choosing = sorted(a for a, s in c.sessions.items() if s.phase is not Phase.READY)
        pools = {
            range(5, 8): on_call,
            range(8, 10): at_work,
            range(10, 15): talking or on_call,
            range(15, 20): choosing,
        }
        for span, pool in pools.items():
            if who in span and pool:
                return pool[who % len(pool)]
        return AgentId(who % 5 + 1)

    def extension(self, which: str) -> str:
        """The extension of a phone whose agent is offered a call, free, on a call or has not
        confirmed it yet (see ``COLLEAGUES``)."""
        c = self.c
        if which == "@offered":
            agents = sorted({a for x in c.calls.values() for a in x.offers})
        elif which == "@free":
            agents = sorted(a for a in c.sessions if c.free(a))
        elif which == "@unconfirmed":
            agents = sorted(a for a, s in c.sessions.items() if s.phase is Phase.DEVICE)
        else:
            agents = sorted(a for a, uids in c.agent_calls.items() if uids)
        lines = [s.line for a in agents if (s := c.sessions.get(a)) and s.line is not None]
        return c.directory.lines[lines[0]].extension if lines else "1001"

    def act(self, who: int, method: str, *args: Any) -> Any:
        """An agent clicks: on a connection of its session, else on the one usually its own."""
        args = tuple(
            self.extension(a) if isinstance(a, str) and a.startswith("@") else a for a in args
        )
        agent = self.agent_of(who)
        slot = next(
            (i for i, client in enumerate(self.slots) if self.c.clients.get(client) == agent),
            int(agent) - 1,
        )
        return self.cmd(slot, method, *args)

    def live_calls(self) -> list[Call]:
        return sorted(self.c.calls.values(), key=lambda x: x.uniqueid)

    # --- set-up ----------------------------------------------------------------------------

    @initialize(
        support=st.sampled_from(list(Strategy)),
        away=st.sets(agent_ids, max_size=AGENTS - 1),
        unconfirmed=st.sets(agent_ids, max_size=2),
        late=st.booleans(),
    )
    def setup(self, support: Strategy, away: set[int], unconfirmed: set[int], late: bool) -> None:
        """The center at 08:00 (or a minute and a half before midnight), with the agents not
        ``away`` at work on their own phones, or (``unconfirmed``) about to confirm them."""
        self.start = _last_midnight(MORNING) - 90.0 if late else MORNING
        self.vc = VirtualCenter(
            center_directory(support), start=self.start, passwords=PASSWORDS, tz=PRAGUE
        )
        self.slots = [self.vc.connect() for _ in range(SLOTS)]
        for agent in range(1, AGENTS + 1):
            if agent not in away:
                self.make_ready(agent, None, confirm=agent not in unconfirmed)

    # --- connections and sessions ----------------------------------------------------------

    @rule(slot=slots, agent=agent_ids, good=st.booleans())
    def login(self, slot: int, agent: int, good: bool) -> None:
        self.cmd(slot, "login", f"agent{agent}", f"pass{agent}" if good else "wrong")

    @rule(
        agent=agent_ids,
        phone=st.sampled_from([None, None, 1, 2, 3, 4, 5, 6]),
        confirm=st.sampled_from([True, True, False]),
    )
    def make_ready(self, agent: int, phone: int | None, confirm: bool = True) -> None:
        """The usual way in: log in, pair a phone (its own by default), confirm it, go READY,
        each step of which may be refused; or stop before confirming the phone."""
        c = self.c
        mine = [i for i, client in enumerate(self.slots) if c.clients.get(client) == agent]
        free = [i for i, client in enumerate(self.slots) if c.clients.get(client) is None]
        slot = (mine or ([agent - 1] if agent - 1 in free else free) or [agent - 1])[0]
        if not mine:
            self.cmd(slot, "login", f"agent{agent}", f"pass{agent}")
        self.cmd(slot, "selectIdentifier", f"phone{phone or agent}")
        if not confirm:
            return
        self.cmd(slot, "provision")
        self.cmd(slot, "changeStatus", "READY")

    @rule(who=whos)
    def logout(self, who: int) -> None:
        self.act(who, "logout")

    @rule(
        who=choosing_whos,
        phone=st.sampled_from([*(f"phone{i}" for i in (1, 2, 3, 4, 5)), " phone3 ", "phone9"]),
    )
    def select_identifier(self, who: int, phone: str) -> None:
        self.act(who, "selectIdentifier", phone)

    @rule(who=choosing_whos)
    def provision(self, who: int) -> None:
        self.act(who, "provision")

    @rule(who=whos)
    def identify(self, who: int) -> None:
        self.act(who, "identify")

    @rule(
        who=whos,
        status=st.sampled_from(["READY", "AUX", "ACW", "OFFLINE", "BUSY"]),
        reason=st.sampled_from([None, None, "Lunch", "Break", "Nap"]),
    )
    def change_status(self, who: int, status: str, reason: str | None) -> None:
        self.act(who, "changeStatus", status, reason)

    @rule(who=whos, queue=st.sampled_from([1, 2, 3, 99]), resume=st.booleans())
    def suspend_or_resume(self, who: int, queue: int, resume: bool) -> None:
        self.act(who, "resume" if resume else "suspend", queue)

    @rule(slot=slots)
    def reconnect(self, slot: int) -> None:
        """The connection drops (the session stays) and a new one takes its place."""
        assert self.vc is not None
        self.vc.feed(Disconnect(self.slots[slot]))
        self.slots[slot] = self.vc.connect()

    @rule(slot=slots, agent=st.integers(0, 9))
    def attach(self, slot: int, agent: int) -> None:
        """A connection (re)attaches to an agent's session: 0–4 agents 1–5, 5–9 one of the
        agents without a session."""
        assert self.vc is not None
        away = sorted(set(self.c.agents) - set(self.c.sessions))
        aid = away[agent % len(away)] if agent >= 5 and away else AgentId(agent % 5 + 1)
        self.vc.feed(Attach(self.slots[slot], aid))

    @rule(who=whos)
    def state(self, who: int) -> None:
        self.act(who, "state")

    # --- callers ---------------------------------------------------------------------------

    @rule(
        queue=st.sampled_from([1, 1, 2, 2, 3, 99]),
        number=st.sampled_from(["+420601123456", "+420777000111", "anonymous"]),
        reuse=picks | st.none(),
    )
    def caller_arrives(self, queue: int, number: str, reuse: int | None) -> None:
        """An outside caller rings a queue, sometimes with a uniqueid already used."""
        assert self.vc is not None
        used = sorted(self.seen)
        uid = UniqueId(used[reuse % len(used)]) if reuse is not None and used else None
        self.vc.feed(TrunkCall(number=number, queue=QueueId(queue), uniqueid=uid))

    @rule(
        queue=st.sampled_from([1, 2, 3, 99]),
        number=st.sampled_from(["+420601123456", "+420601000001", "+420601000003", "1002", "x"]),
    )
    def callback_requested(self, queue: int, number: str) -> None:
        """A callback request (CONTRACT §12); a bad one (a campaign, no such queue, no digits)
        is refused with nothing changed."""
        assert self.vc is not None
        before = self.describe()
        try:
            self.vc.feed(CallbackRequested(QueueId(queue), number, "Callback"))
        except UcsError:
            assert self.describe() == before

    @precondition(lambda self: self.vc is not None and bool(self.vc.center.calls))
    @rule(pick=picks, keys=st.sampled_from(["1", "2", "#1", "*"]))
    def caller_presses(self, pick: int, keys: str) -> None:
        """The outside party of a live call presses keys: 1, waiting in a queue that offers
        it, leaves a callback request in its place (CONTRACT §12); anything else, nothing."""
        assert self.vc is not None
        calls = self.live_calls()
        if calls:
            self.vc.feed(Dtmf(calls[pick % len(calls)].uniqueid, keys))

    @rule(timeout=st.sampled_from([None, 0.5, 2.0]))
    def lookup_settings(self, timeout: float | None) -> None:
        """Caller lookup in the CRM turned on (callers wait for it) or off."""
        assert self.vc is not None
        self.vc.feed(LookupSettings(timeout))

    @rule(wait=st.sampled_from([None, 2.0]))
    def keeping_settings(self, wait: float | None) -> None:
        """New calls wait for their record to be kept before they ring (a server's way), or
        not (``core/keeping.py``)."""
        assert self.vc is not None
        self.vc.center.keeping.wait = wait

    @precondition(lambda self: self.vc is not None and len(self.vc.center.keeping) > 0)
    @rule(pick=picks, every=st.booleans())
    def store_keeps(self, pick: int, every: bool) -> None:
        """The store says a new call's record is kept (or every one asked so far)."""
        assert self.vc is not None
        unkept = [x.uniqueid for x in self.live_calls() if x.uniqueid in self.c.keeping]
        if unkept:
            self.vc.feed(Kept(tuple(unkept) if every else (unkept[pick % len(unkept)],)))

    @precondition(lambda self: self.vc is not None and len(self.vc.center.lookups) > 0)
    @rule(pick=picks, found=st.booleans())
    def crm_answers(self, pick: int, found: bool) -> None:
        """The CRM answers a pending lookup (a name, or nothing usable)."""
        assert self.vc is not None
        held = [x for x in self.live_calls() if self.c.lookups.holds(x.uniqueid)]
        if held:
            call = held[pick % len(held)]
            answer = (
                Answer(name="From the CRM", data={"crmUrl": "https://crm/1"}) if found else None
            )
            self.vc.feed(LookedUp(call.uniqueid, call.caller.number_norm or "", answer))

    @rule(extension=st.sampled_from(["1001", "1002", "1003", "1004", "1005", "1999", *COLLEAGUES]))
    def caller_dials_extension(self, extension: str) -> None:
        """An outside caller dials one of our phones directly (not through a queue)."""
        assert self.vc is not None
        if extension.startswith("@"):
            extension = self.extension(extension)
        self.vc.feed(TrunkCall(number="+420601123456", extension=extension))

    @precondition(lambda self: self.vc is not None and bool(self.vc.center.calls))
    @rule(pick=picks)
    def outside_hangs_up(self, pick: int) -> None:
        assert self.vc is not None
        calls = self.live_calls()
        self.vc.caller_hangs_up(calls[pick % len(calls)].uniqueid)

    @precondition(lambda self: self.vc is not None and bool(self.vc.center.calls))
    @rule(pick=picks)
    def handset_hangs_up(self, pick: int) -> None:
        """An agent puts the handset down (on a call or on a ringing offer)."""
        assert self.vc is not None
        pairs = sorted(
            (call.uniqueid, line)
            for call in self.live_calls()
            for line in {
                *(o.line for o in call.offers.values()),
                *(
                    p.line_id
                    for p in (call.caller, call.connected_party)
                    if p is not None and p.line_id is not None
                ),
            }
        )
        if pairs:
            uid, line = pairs[pick % len(pairs)]
            self.vc.feed(HungUp(uid, line))

    # --- agents' buttons -------------------------------------------------------------------

    @rule(who=st.integers(0, 9))
    def answer(self, who: int) -> None:
        """0–4: agents 1–5 click answer; 5–9: one whose phone rings does."""
        ringing = sorted(
            {a for x in self.c.calls.values() for a in x.offers}
            | {
                x.connected_party.user_id
                for x in self.c.calls.values()
                if x.state is CallState.RINGING
                and x.connected_party is not None
                and x.connected_party.user_id is not None
            }
        )
        if who >= 5 and ringing:
            who = ringing[who % len(ringing)] - 1
        self.act(who, "answer")

    @rule(who=busy_whos)
    def hangup(self, who: int) -> None:
        self.act(who, "hangup")

    @rule(who=busy_whos, alias=st.booleans())
    def hold(self, who: int, alias: bool) -> None:
        self.act(who, "tribute" if alias else "hold")

    @rule(who=busy_whos)
    def unhold(self, who: int) -> None:
        self.act(who, "unhold")

    @rule(who=busy_whos)
    def mute(self, who: int) -> None:
        self.act(who, "mute")

    @rule(who=busy_whos, number=st.none() | numbers)
    def transfer(self, who: int, number: Any) -> None:
        if number is None:
            self.act(who, "transfer")
        else:
            self.act(who, "transfer", number)

    @rule(
        queue=st.sampled_from([1, 2]),
        wait=st.integers(0, 5),
        by=st.integers(0, 4),
    )
    def caller_gets_through(self, queue: int, wait: int, by: int) -> None:
        """A caller rings a queue and, after ``wait`` s, one of the agents it rings answers."""
        assert self.vc is not None
        uid = self.vc.caller(queue)
        self.vc.advance(wait)
        call = self.c.calls.get(uid)
        if call is not None and call.offers:
            offered = sorted(call.offers)
            self.act(offered[by % len(offered)] - 1, "answer")

    @rule(
        who=busy_whos,
        number=numbers,
        wait=st.sampled_from([0, 0, 1, 2, 20]),
        finish=st.booleans(),
    )
    def attended_transfer(self, who: int, number: Any, wait: int, finish: bool) -> None:
        """Suspend the call and consult ``number``, then (maybe) join them."""
        agent = self.agent_of(who)
        if self.act(agent - 1, "transfer", number) is REFUSED:
            return
        assert self.vc is not None
        self.vc.advance(wait)
        if finish:
            self.act(agent - 1, "finishTransfer")

    @rule(who=busy_whos)
    def finish_transfer(self, who: int) -> None:
        self.act(who, "finishTransfer")

    @rule(who=busy_whos, number=numbers, picks_up=st.booleans())
    def blind_transfer(self, who: int, number: Any, picks_up: bool) -> None:
        """Send the far party to ``number``; when that is a colleague, (maybe) they answer."""
        if isinstance(number, str) and number.startswith("@"):
            number = self.extension(number)
        if self.act(who, "blindTransfer", number) is REFUSED or not picks_up:
            return
        line = self.c.directory.line_by_extension(str(number))
        owner = self.c.line_owner.get(line.id) if line is not None else None
        if owner is not None:
            self.act(owner - 1, "answer")

    @rule(
        who=whos,
        number=numbers,
        queue=st.sampled_from([None, None, "directCall", "undefined", 3, 3, 1, 99, "x"]),
        line=st.sampled_from([None, None, None, "own", 1, 5]),
    )
    def dial(self, who: int, number: Any, queue: Any, line: Any) -> None:
        if line == "own":
            session = self.c.sessions.get(self.agent_of(who))
            line = session.line if session is not None else None
        self.act(who, "dial", number, queue, line)

    @rule(
        who=whos,
        pick=picks,
        code=st.sampled_from(["A1", "B2", ""]),
        sub=st.sampled_from([None, "S"]),
        override=st.booleans(),
    )
    def set_account_code(
        self, who: int, pick: int, code: str, sub: str | None, override: bool
    ) -> None:
        uids = sorted({*self.c.calls, *self.c.ended, "no-such-call"})
        self.act(who, "setAccountCode", uids[pick % len(uids)], code, sub, override)

    # --- the switch and the clock ----------------------------------------------------------

    @rule(op=st.sampled_from(sorted(OPERATIONS.values())), then=st.none() | busy_whos)
    def switch_fails(self, op: str, then: int | None) -> None:
        """The switch will fail the next operation of this kind, (maybe) asked for at once."""
        assert self.vc is not None
        self.vc.switch.fail(op)
        if then is None:
            return
        if op == "ring":
            self.vc.caller(1 + then % 2)
        elif op == "originate":
            self.act(then, "dial", "+420601234567", "directCall")
        elif op == "transfer":
            self.act(then, "finishTransfer")
        elif op == "blind_transfer":
            self.act(then, "blindTransfer", [*NUMBERS, *COLLEAGUES][then])
        else:
            self.act(then, op)

    @rule(
        phones=st.none() | st.frozensets(st.integers(1, AGENTS)),
        phone=st.integers(1, AGENTS),
        registered=st.booleans(),
    )
    def registration(self, phones: frozenset[int] | None, phone: int, registered: bool) -> None:
        """The switch tells which phones are registered, or that one came or went."""
        assert self.vc is not None
        if phones is not None:
            self.vc.feed(Registrations(frozenset(LineId(p) for p in phones)))
        else:
            self.vc.feed(Registration(LineId(phone), registered))

    @rule(pick=st.integers(0, 50))
    def phone_cannot_be_rung(self, pick: int) -> None:
        """One of the phones a queue call rings could not be rung after all."""
        assert self.vc is not None
        offers = sorted((o.line, uid) for uid, x in self.c.calls.items() for o in x.offers.values())
        if offers:
            line, uid = offers[pick % len(offers)]
            self.vc.feed(SwitchFailed(uid, Operation.RING, "not registered", line))

    @rule(support=st.sampled_from(list(Strategy)), reshuffled=st.booleans())
    def reconfigure(self, support: Strategy, reshuffled: bool) -> None:
        """Administration changes the Support strategy and who is in which queue."""
        assert self.vc is not None
        self.vc.feed(Reconfigure(center_directory(support, reshuffled=reshuffled)))
        self.watching.clear()  # other teams: the components ask again

    @rule(pick=st.integers(0, SLOTS - 1))
    def supervisor_asks_for_the_team(self, pick: int) -> None:
        """A supervisor's component (READY) asks ``team()`` and from then on keeps the view
        amended by each ``team.changed``, as ``onTeamChange`` has it."""
        c = self.c
        watching = [
            (slot, client)
            for slot, client in enumerate(self.slots)
            if (agent := c.clients.get(client)) is not None
            and agent in c.teams.supervisors
            and (session := c.sessions.get(agent)) is not None
            and session.phase is Phase.READY
        ]
        if not watching:
            return
        slot, client = watching[pick % len(watching)]
        assert self.vc is not None
        told = len(self.vc.messages(client, "team.changed"))
        view = self.cmd(slot, "team")
        assert view is not REFUSED
        self.watching[client] = (c.clients[client], view, told)

    @rule(seconds=st.integers(0, 40) | st.floats(0, 40, allow_nan=False))
    def advance(self, seconds: float) -> None:
        assert self.vc is not None
        self.vc.advance(seconds)

    def quiet(self) -> bool:
        """No caller is waiting or ringing in a queue (hours of ring timeouts take long)."""
        return self.vc is not None and not any(
            x.queue_id is not None and x.connected_party is None for x in self.c.calls.values()
        )

    @precondition(quiet)
    @rule(hours=st.integers(1, 20))
    def advance_hours(self, hours: int) -> None:
        assert self.vc is not None
        self.vc.advance(hours * 3600.0)

    # --- invariants ------------------------------------------------------------------------

    def _agents(self) -> Iterator[Agent]:
        if self.vc is not None:
            yield from sorted(self.c.agents.values(), key=lambda a: a.id)

    @invariant()
    def time_buckets_add_up(self) -> None:
        if self.vc is None:
            return
        now = self.vc.now
        elapsed = now - max(self.start, _last_midnight(now))
        for a in self._agents():
            s = a.stats_at(now)
            total = s.readytime + s.auxtime + s.acwtime + s.offlinetime
            assert abs(total - elapsed) <= TOL, (
                f"agent {a.id}: ready {s.readytime} + aux {s.auxtime} + acw {s.acwtime} "
                f"+ offline {s.offlinetime} = {total}, but {elapsed} s elapsed today"
            )
            assert abs(sum(s.auxtimes.values()) - s.auxtime) <= TOL, (a.id, s.auxtimes, s.auxtime)
            assert s.idletime <= s.readytime + TOL, (a.id, s.idletime, s.readytime)
            for name in ("in_ringtime", "out_ringtime", "in_talktime", "out_talktime"):
                assert getattr(s, name) >= -TOL, (a.id, name, getattr(s, name))
            for q, f in s.queues.items():
                assert f.ringtime >= -TOL and f.talktime >= -TOL, (a.id, q, f)
                assert f.suspendtime <= elapsed - s.offlinetime + TOL, (a.id, q, f, s)
            ring = sum(f.ringtime for f in s.queues.values())
            talk = sum(f.talktime for f in s.queues.values())
            assert abs(ring - (s.in_ringtime + s.out_ringtime)) <= TOL, (
                f"agent {a.id}: queues' ringtime {ring} != in {s.in_ringtime} "
                f"+ out {s.out_ringtime}"
            )
            assert abs(talk - (s.in_talktime + s.out_talktime)) <= TOL, (
                f"agent {a.id}: queues' talktime {talk} != in {s.in_talktime} "
                f"+ out {s.out_talktime}"
            )

    @invariant()
    def cached_activity_is_current(self) -> None:
        for a in self._agents():
            now = _activity(self.c, a)
            assert a.activity == now, f"agent {a.id} accrues as {a.activity} but is {now}"

    @invariant()
    def one_offer_at_a_time(self) -> None:
        for a in self._agents():
            aid = AgentId(a.id)
            offered = [x.uniqueid for x in self.c.calls.values() if aid in x.offers]
            assert len(offered) <= 1, f"agent {a.id} is offered {offered} at once"

    @invariant()
    def offered_agent_is_on_no_other_call(self) -> None:
        for a in self._agents():
            aid = AgentId(a.id)
            for call in self.c.calls.values():
                offer = call.offers.get(aid)
                if offer is None:
                    continue
                on = [
                    x.uniqueid
                    for x in self.c.calls.values()
                    if x is not call
                    and x.side_of(aid) in ("caller", "connected")
                    and x.state in _LIVE
                ]
                assert not on, f"agent {a.id} is offered {call.uniqueid} while on {on}"
                session = self.c.sessions.get(aid)
                assert session is not None and session.line == offer.line, (
                    f"agent {a.id} is offered a call on line {offer.line}, but its session is "
                    f"{session}"
                )

    @invariant()
    def nobody_waits_for_a_free_agent(self) -> None:
        if self.vc is None:
            return
        c = self.c
        for call in self.live_calls():
            if call.queue_id is None:
                continue
            q = c.directory.queues.get(call.queue_id)
            ringall = q is not None and q.strategy is Strategy.RING_ALL
            unanswered = call.connected_party is None and call.enqueued_at is not None
            if not (call.waiting or (ringall and unanswered and call.offers)):
                continue
            if self._behind_unkept(call):
                continue  # its record, or one of a caller before it, is on its way
            for member in c.directory.members(call.queue_id):
                a = c.agents[member]
                if call.queue_id in a.suspended or not c.free(member):
                    continue
                assert not call.waiting, (
                    f"call {call.uniqueid} waits in queue {call.queue_id} while agent "
                    f"{member} is free"
                )
                assert member in call.tried, (
                    f"ring-all call {call.uniqueid} rings {sorted(call.offers)} but not free "
                    f"member {member}"
                )

    def _behind_unkept(self, call: Call) -> bool:
        """A caller at or before ``call`` in its queue's order is not kept yet: it is offered
        to nobody until it is (``keeping.py``)."""
        entries = self.c.distributor.indexes().waiting.get(call.queue_id, [])  # type: ignore[arg-type]
        for _, _, uid in entries:
            if uid in self.c.keeping:
                return True
            if uid == call.uniqueid:
                return False
        return False

    @invariant()
    def distribution_indexes_are_current(self) -> None:
        """The free agents and waiting callers kept step by step equal a full recount."""
        if self.vc is None:
            return
        c = self.c
        c.distributor.check()  # the free order and the waiting callers' keys agree
        indexes = c.distributor.indexes()
        assert set(indexes.free) == {a for a in c.sessions if c.free(a)}
        for agent, since in indexes.free.items():
            assert since == c.agents[agent].available_since, f"agent {agent} free since"
        waiting = {
            call.uniqueid
            for call in c.calls.values()
            if call.enqueued_at is not None
            and call.connected_party is None
            and (q := c.directory.queues.get(call.queue_id)) is not None  # type: ignore[arg-type]
            and (not call.offers or q.strategy is Strategy.RING_ALL)
        }
        indexed = [(q, e) for q, entries in indexes.waiting.items() for e in entries]
        assert {e[2] for _, e in indexed} == waiting
        assert len(indexed) == len(waiting)
        for queue_id, entries in indexes.waiting.items():
            assert entries and all(c.calls[e[2]].queue_id == queue_id for e in entries)

    @invariant()
    def calls_are_consistent(self) -> None:
        if self.vc is None:
            return
        c = self.c
        for uid in self.vc.live_records:
            assert uid in c.calls, f"ended call {uid} was last recorded as live"
        for uid, rec in self.vc.records.items():  # the final record of each call
            assert rec.call["cause"] != int(Cause.NOT_SET), (uid, rec.call)
            assert rec.call["disconnected"] is not None, (uid, rec.call)
            assert uid not in c.calls, f"live call {uid} is recorded as ended"
        for uid, call in c.ended.items():
            assert call.ended and call.disconnected is not None, (uid, call)
            assert uid in self.vc.records, f"ended call {uid} was never recorded"
        ids: dict[int, UniqueId] = {}
        for uid, call in c.calls.items():
            assert call.uniqueid == uid
            assert not call.ended, f"live call {uid} has ended (cause {call.cause})"
            assert 1 <= call.id <= 65535, (uid, call.id)
            # A server that dies ends each live call as its last record says: that record
            # keeps up with what the reports and a restart read (offers may change unrecorded).
            rec = self.vc.live_records.get(uid)
            assert rec is not None, f"live call {uid} has no record"
            recorded = (rec.call["state"], rec.queue_id, rec.handled_by, rec.agents)
            now = (int(call.state), call.queue_id, call.handled_by, call.agents_on_record())
            assert recorded == now, f"call {uid}'s live record says {recorded}, not {now}"
            assert call.id not in ids, f"calls {ids[call.id]} and {uid} share id {call.id}"
            ids[call.id] = uid
            for agent in call.agents():
                assert uid in c.agent_calls.get(agent, set()), (
                    f"agent {agent} is on call {uid} but it is not in its agent_calls"
                )
        for agent, uids in c.agent_calls.items():
            for uid in uids:
                assert uid in c.calls, f"agent_calls[{agent}] has {uid}, which is not live"
                assert agent in c.calls[uid].agents(), (
                    f"agent_calls[{agent}] has {uid}, but the agent is not on it"
                )
        for uid, call in [*c.calls.items(), *c.ended.items()]:
            first = self.seen.setdefault(uid, call)
            assert first is call, f"uniqueid {uid} was given to two calls"

    @invariant()
    def phones_held_by_one_agent(self) -> None:
        if self.vc is None:
            return
        c = self.c
        held: dict[LineId, AgentId] = {}
        for agent, s in c.sessions.items():
            if s.line is not None:
                assert s.line not in held, f"agents {held[s.line]} and {agent} share {s.line}"
                held[s.line] = agent
                assert c.line_owner.get(s.line) == agent, (
                    f"agent {agent}'s session has line {s.line}, owned by "
                    f"{c.line_owner.get(s.line)}"
                )
        for line, owner in c.line_owner.items():
            assert held.get(line) == owner, f"line {line} is owned by {owner} without a session"
        for call in c.calls.values():
            for party in (call.caller, call.connected_party):
                if party is None or party.user_id is None:
                    continue
                owner = c.line_owner.get(party.line_id) if party.line_id is not None else None
                assert owner == party.user_id, (
                    f"call {call.uniqueid} has agent {party.user_id} on line {party.line_id}, "
                    f"owned by {owner}"
                )

    @invariant()
    def queue_calls_ring_while_offered(self) -> None:
        """A queue caller no one has answered rings (RINGING) while offered, else waits
        (CONNECTING)."""
        if self.vc is None:
            return
        for call in self.c.calls.values():
            if call.queue_id is None or call.connected_party is not None:
                continue
            expected = CallState.RINGING if call.offers else CallState.CONNECTING
            assert call.state is expected, (
                f"queue call {call.uniqueid} is {call.state.name} with offers to "
                f"{sorted(call.offers)}"
            )

    @invariant()
    def sessions_know_their_connections(self) -> None:
        if self.vc is None:
            return
        c = self.c
        for agent, s in c.sessions.items():
            for client in s.clients:
                now = f"attached to {c.clients[client]}" if client in c.clients else "gone"
                assert c.clients.get(client) == agent, (
                    f"session of agent {agent} lists connection {client}, which is {now}"
                )

    @invariant()
    def team_views_are_a_recount(self) -> None:
        """Every supervisor's team view (CONTRACT §11) against a recount from the directory and
        the core's state: whose team, which queues, each agent's status, reason, time, phone
        and call, each queue's waiting callers and longest wait and today's figures."""
        if self.vc is None:
            return
        c = self.c
        directory = c.directory
        supervisors = set()
        for a in directory.agents.values():
            queues = {
                m.queue for m in a.memberships if m.supervisor and m.queue in directory.queues
            }
            if a.superuser:
                queues = set(directory.queues)
            if not queues:
                continue
            supervisors.add(a.id)
            members = sorted(
                b.id
                for b in directory.agents.values()
                if b.id != a.id and (a.superuser or any(m.queue in queues for m in b.memberships))
            )
            view = supervision.view(c, *c.teams.of(a.id), c.now)
            assert [x["queue_id"] for x in view["queues"]] == sorted(queues)
            assert [x["id"] for x in view["agents"]] == members
            for entry in view["agents"]:
                agent = c.agents[entry["id"]]
                session = c.sessions.get(agent.id)
                on = {x.uniqueid for x in c.calls.values() if x.side_of(agent.id) is not None}
                call = entry["call"]
                assert (entry["status"], entry["reason"], entry["status_since"]) == (
                    agent.status.value,
                    agent.reason,
                    agent.status_since,
                ), entry
                assert entry["identifier"] == (session.identifier if session else None)
                assert (call is None) == (not on) and (call is None or call["uniqueid"] in on), (
                    entry,
                    on,
                )
            for entry in view["queues"]:
                q = QueueId(entry["queue_id"])
                day = c.queue_days.day(q)
                if entry["type"] == 0:  # a campaign: its calls in progress and today's dialled
                    dialling = [
                        x for x in c.calls.values() if x.outbound_id == q and x.queue_id is None
                    ]
                    assert directory.queues[q].type is QueueType.OUTGOING
                    assert entry["active"] == sum(not x.ended for x in dialling)
                    assert (entry["dialled"], entry["answered"], entry["unanswered"]) == (
                        day.offered,
                        day.answered,
                        day.unanswered,
                    )
                    assert day.offered >= day.answered + day.unanswered + day.open
                    continue
                waits = [
                    x.enqueued_at if x.enqueued_at is not None else x.created
                    for x in c.calls.values()
                    if x.queue_id == q and x.connected_party is None and not x.ended
                ]
                assert entry["waiting"] == len(waits)
                assert entry["longest_wait"] == round(max((c.now - t for t in waits), default=0))
                assert (entry["answered"], entry["abandoned"], entry["service_level"]) == (
                    day.answered,
                    day.abandoned,
                    day.service_level,
                )
        assert supervisors == set(c.teams.supervisors)

    @invariant()
    def pushed_team_changes_amend_the_view_to_the_truth(self) -> None:
        """A supervisor's component that asked ``team()`` and applied every ``team.changed``
        since has the view ``team()`` would give now, once no change waits for its tick."""
        if self.vc is None:
            return
        c = self.c
        for client, (agent, view, told) in list(self.watching.items()):
            session = c.sessions.get(agent)
            if (
                c.clients.get(client) != agent
                or session is None
                or session.phase is not Phase.READY
            ):
                del self.watching[client]  # not told while away: asks again when back
                continue
            if c.team_watch.pending:
                continue
            pushes = self.vc.messages(client, "team.changed")[told:]
            kept = without_clock(amended_team(view, pushes))
            truth = without_clock(supervision.view(c, *c.teams.of(agent), c.now))
            differ = [
                (k, t)
                for part in ("queues", "agents")
                for k, t in zip(kept[part], truth[part], strict=False)
                if k != t
            ]
            assert kept == truth, differ or (kept, truth)


CenterMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=100, deadline=None)
TestCenter = CenterMachine.TestCase


# ---------------------------------------------------------------------------------- agent alone


def _activities() -> st.SearchStrategy[Activity]:
    queues = st.sampled_from([QueueId(1), QueueId(2), QueueId(3)])

    @st.composite
    def build(draw: st.DrawFn) -> Activity:
        status = draw(st.sampled_from(list(Status)))
        ringing_in = draw(st.none() | queues)
        talking_in = tuple(sorted(draw(st.sets(queues, max_size=2))))
        ringing_out = tuple(sorted(draw(st.sets(queues, max_size=1))))
        talking_out = tuple(sorted(draw(st.sets(queues, max_size=1))))
        busy = ringing_in is not None or talking_in or ringing_out or talking_out
        return Activity(
            status=status,
            reason=draw(st.sampled_from(["Lunch", "Break"])) if status is Status.AUX else None,
            idle=status is Status.READY and not busy and draw(st.booleans()),
            ringing_in=ringing_in,
            talking_in=talking_in,
            ringing_out=ringing_out,
            talking_out=talking_out,
            suspended=tuple(sorted(draw(st.sets(queues, max_size=2))))
            if status is not Status.OFFLINE
            else (),
        )

    return build()


@dataclass
class _Segment:
    activity: Activity
    start: float
    end: float | None = None


@dataclass
class _Expected:
    """What the statistics must be, summed from the segments of constant activity."""

    buckets: dict[str, float] = field(default_factory=dict)

    def add(self, key: str, dt: float) -> None:
        self.buckets[key] = self.buckets.get(key, 0.0) + dt


def _expected(segments: list[_Segment], now: float) -> _Expected:
    e = _Expected()
    for seg in segments:
        dt = (seg.end if seg.end is not None else now) - seg.start
        act = seg.activity
        e.add(act.status.value, dt)
        if act.status is Status.AUX:
            e.add(f"aux:{act.reason}", dt)
        if act.idle:
            e.add("idle", dt)
        if act.ringing_in is not None:
            e.add("in_ring", dt)
            e.add(f"ring:{act.ringing_in}", dt)
        if act.talking_in:
            e.add("in_talk", dt)
        if act.ringing_out:
            e.add("out_ring", dt)
        if act.talking_out:
            e.add("out_talk", dt)
        # Time on calls of several queues at once is shared out among those queues.
        for queues in (act.talking_in, act.talking_out):
            for q in set(queues):
                e.add(f"talk:{q}", dt / len(set(queues)))
        for q in set(act.ringing_out):
            e.add(f"ring:{q}", dt / len(set(act.ringing_out)))
        for q in act.suspended:
            e.add(f"suspend:{q}", dt)
    return e


def _copy(s: DayStats) -> DayStats:
    snapshot = DayStats(**{n: getattr(s, n) for n in DayStats.__dataclass_fields__})
    snapshot.auxtimes = dict(s.auxtimes)
    snapshot.queues = {
        q: type(f)(**{n: getattr(f, n) for n in f.__dataclass_fields__})
        for q, f in s.queues.items()
    }
    return snapshot


class AgentMachine(RuleBasedStateMachine):
    """One ``Agent``: activity changes as the center makes them (accrue, then set), and reads."""

    def __init__(self) -> None:
        super().__init__()
        self.now = MORNING
        cfg = AgentConfig(
            id=AgentId(1),
            username="agent1",
            memberships=(Membership(QueueId(1)), Membership(QueueId(2)), Membership(QueueId(3))),
        )
        self.agent = Agent(config=cfg, since=self.now, status_since=self.now)
        self.day_start = self.now
        self.segments = [_Segment(Activity(), self.now)]

    @rule(dt=st.integers(0, 600) | st.floats(0, 600, allow_nan=False))
    def time_passes(self, dt: float) -> None:
        self.now += dt

    @rule(activity=_activities())
    def activity_changes(self, activity: Activity) -> None:
        self.agent.accrue(self.now)
        self.agent.activity = activity
        self.segments[-1].end = self.now
        self.segments.append(_Segment(activity, self.now))

    @rule()
    def accrue_matches_stats_at(self) -> None:
        before = _copy(self.agent.stats)
        predicted = _copy(self.agent.stats_at(self.now))
        assert self.agent.stats == before, "stats_at changed the agent's statistics"
        self.agent.accrue(self.now)
        assert self.agent.stats == predicted, (self.agent.stats, predicted)
        assert self.agent.since == self.now

    @rule(back=st.integers(1, 600))
    def accrue_in_the_past_changes_nothing(self, back: int) -> None:
        before, since = _copy(self.agent.stats), self.agent.since
        self.agent.accrue(since - back)
        assert (self.agent.stats, self.agent.since) == (before, since)

    @rule(dt=st.integers(0, 86_400))
    def new_day(self, dt: int) -> None:
        self.now += dt
        self.agent.new_day(self.now)
        assert self.agent.stats == DayStats()
        assert self.agent.since == self.now
        self.day_start = self.now
        self.segments = [_Segment(self.agent.activity, self.now)]

    @invariant()
    def buckets_partition_the_day(self) -> None:
        s = self.agent.stats_at(self.now)
        elapsed = self.now - self.day_start
        total = s.readytime + s.auxtime + s.acwtime + s.offlinetime
        assert abs(total - elapsed) <= TOL, (total, elapsed, s)
        assert abs(sum(s.auxtimes.values()) - s.auxtime) <= TOL, s
        assert s.idletime <= s.readytime + TOL, s

    @invariant()
    def buckets_match_the_activity_log(self) -> None:
        s = self.agent.stats_at(self.now)
        e = _expected(self.segments, self.now).buckets
        got = {
            Status.READY.value: s.readytime,
            Status.AUX.value: s.auxtime,
            Status.ACW.value: s.acwtime,
            Status.OFFLINE.value: s.offlinetime,
            "idle": s.idletime,
            "in_ring": s.in_ringtime,
            "in_talk": s.in_talktime,
            "out_ring": s.out_ringtime,
            "out_talk": s.out_talktime,
            **{f"aux:{r}": t for r, t in s.auxtimes.items()},
            **{f"ring:{q}": f.ringtime for q, f in s.queues.items()},
            **{f"talk:{q}": f.talktime for q, f in s.queues.items()},
            **{f"suspend:{q}": f.suspendtime for q, f in s.queues.items()},
        }
        for key in sorted(set(got) | set(e)):
            assert abs(got.get(key, 0.0) - e.get(key, 0.0)) <= TOL, (key, got, e)

    @invariant()
    def wire_rounds_the_figures(self) -> None:
        s = self.agent.stats_at(self.now)
        for m in self.agent.config.memberships:
            wire = self.agent.queue_wire(m, QueueType.INCOMING, s)
            f = s.queues.get(m.queue)
            assert wire["talktime"] == round(f.talktime if f else 0.0)
            assert wire["ringtime"] == round(f.ringtime if f else 0.0)
            assert wire["suspended"] == (m.queue in self.agent.suspended)


AgentMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=50, deadline=None)
TestAgent = AgentMachine.TestCase


# ---------------------------------------------------------------------------------- throttle

USERNAMES = ("alice", "bob", "carol")
"""Usernames of the directory: each has its own count."""
UNKNOWN = ("mallory", "nobody")
"""Usernames nobody has: they share the bucket and nothing else."""


class ThrottleMachine(RuleBasedStateMachine):
    """Login attempts as ``methods.login`` makes them: check, then count a failure or a
    success, against a model of failures per known username and one shared bucket."""

    def __init__(self) -> None:
        super().__init__()
        self.now = MORNING
        self.throttle = Throttle()
        self.failures: dict[str, list[float]] = {u: [] for u in USERNAMES}
        self.locked_until: dict[str, float] = {}
        self.level = 0.0
        self.level_at = MORNING

    @initialize(
        limit=st.integers(1, 5),
        window=st.sampled_from([10.0, 60.0, 300.0]),
        lockout=st.sampled_from([10.0, 60.0, 300.0]),
        burst=st.integers(1, 8),
        rate=st.sampled_from([0.25, 0.5, 2.0]),
    )
    def configure(self, limit: int, window: float, lockout: float, burst: int, rate: float) -> None:
        self.throttle = Throttle(
            limit=limit, window=window, lockout=lockout, burst=float(burst), rate=rate
        )

    def model_locked(self, user: str) -> bool:
        until = self.locked_until.get(user)
        return until is not None and self.now < until

    def model_full(self) -> bool:
        level = max(0.0, self.level - (self.now - self.level_at) * self.throttle.rate)
        return level + 1 > self.throttle.burst

    @rule(dt=st.integers(0, 120) | st.sampled_from([0.5, 9.0, 10.0, 59.0, 60.0, 300.0, 301.0]))
    def time_passes(self, dt: float) -> None:
        self.now += dt

    @rule(user=st.sampled_from(USERNAMES + UNKNOWN), ok=st.booleans())
    def attempt(self, user: str, ok: bool) -> None:
        t = self.throttle
        known = user in USERNAMES
        ok = ok and known  # an unknown username has no right password
        try:
            t.check(user, self.now, known=known)
        except TooManyAttempts:
            assert self.model_locked(user) or (not known and self.model_full()), (
                f"{user} refused at {self.now - MORNING}"
            )
            return
        assert not self.model_locked(user), f"{user} not locked out at {self.now - MORNING}"
        assert known or not self.model_full(), f"{user} let through a full bucket"
        self.locked_until.pop(user, None)
        if ok:
            t.succeeded(user)
            self.failures[user] = []
            return
        full = self.model_full()
        if not full:
            drained = max(0.0, self.level - (self.now - self.level_at) * t.rate)
            self.level, self.level_at = drained + 1, self.now
        starts = False
        if known:
            recent = [x for x in [*self.failures[user], self.now] if x > self.now - t.window]
            if len(recent) >= t.limit:
                self.locked_until[user] = self.now + t.lockout
                starts, recent = True, []
            self.failures[user] = recent
        try:
            t.failed(user, self.now, known=known)
            refused = False
        except TooManyAttempts:
            refused = True
        assert refused == full, f"{user}: refused {refused} with the bucket full {full}"
        assert t.take_locks() == ([(user, t.lockout)] if starts else [])  # told once, at once

    @invariant()
    def locked_iff_too_many_recent_failures(self) -> None:
        for user in USERNAMES:
            try:
                self.throttle.check(user, self.now, known=True)
                locked = False
            except TooManyAttempts:
                locked = True
            assert locked == self.model_locked(user), (
                f"{user}: locked {locked}, expected {self.model_locked(user)} at "
                f"{self.now - MORNING} s (failures {self.failures}, locks {self.locked_until})"
            )

    @invariant()
    def unknown_usernames_are_refused_iff_the_bucket_is_full(self) -> None:
        for user in UNKNOWN:
            try:
                self.throttle.check(user, self.now, known=False)
                refused = False
            except TooManyAttempts:
                refused = True
            assert refused == self.model_full(), (user, self.now - MORNING)

    @invariant()
    def state_is_kept_for_known_usernames_only(self) -> None:
        assert len(self.throttle) <= len(USERNAMES)
        assert set(self.throttle._failures) | set(self.throttle._locked) <= set(USERNAMES)


ThrottleMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None
)
TestThrottle = ThrottleMachine.TestCase
