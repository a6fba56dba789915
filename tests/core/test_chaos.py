"""A chaos day: 50 agents and thousands of calls on a virtual clock, with faults all day long.

Agents work as people do: they answer what rings (or let it ring), talk, put callers on hold,
transfer them blind or after a consultation, dial out under the campaign, take breaks, log out
and back in. Meanwhile the faults: connections dropped and re-attached, tabs opened and closed
mid-call, commands sent twice or in another order (two tabs clicking at once), handsets put down,
the switch failing to answer, hold, transfer and dial, phones going away (unregistered, or not
reachable when rung) and registering again. Callers give up when they have waited long enough.

The day's records go to a real store (SQLite) whose database fails twice (half an hour, then
ten minutes): they wait in the journal and are written once it answers again.

Every few minutes the invariants of the stateful test hold; at the end of the day no agent is
stuck (each one's state matches its calls), no call is lost (every call created was recorded as
ended, once, in the database too) and the statistics add up.
"""

from __future__ import annotations

import heapq
import itertools
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from tests.conftest import MORNING, PRAGUE
from tests.core.test_stateful import CenterMachine
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
from ucs.core.effects import CallbackTaken, Created, Push
from ucs.core.errors import UcsError
from ucs.core.events import (
    Attach,
    CallbackRequested,
    Disconnect,
    Dtmf,
    HungUp,
    Operation,
    Registration,
    Registrations,
    SwitchFailed,
    TrunkCall,
)
from ucs.core.ids import AgentId, ClientId, LineId, QueueId, UniqueId
from ucs.core.model import Cause, Direction
from ucs.storage import schema
from ucs.storage.store import Health, Store
from ucs.virtual import VirtualCenter

AGENTS = 50
DAY = 8 * 3600.0
ARRIVALS_PER_S = 0.15
"""About 4,300 callers in the day; with breaks and faults, sometimes more than agents can take."""
AUX = ("Lunch", "Break", "Meeting")
SUPPORT, SALES, BILLING, CAMPAIGN = QueueId(1), QueueId(2), QueueId(3), QueueId(4)
EXTERNAL = ["+420601123456", "+420777000111", "+420601230001", "+420601230002", "+420601230003"]
REFUSED = object()
"""What ``ChaosDay.cmd`` returns when the core refused the command."""
REFUSALS = {"INVALID_STATE"}
"""What a well-formed command sent at the wrong moment may be told: nothing else, and never a
crash."""


def extension(i: int) -> str:
    return f"2{i:03d}"


def chaos_directory() -> Directory:
    lines = {LineId(i): LineConfig(LineId(i), f"phone{i}", extension(i)) for i in range(1, 51)}
    queues = {
        SUPPORT: QueueConfig(
            SUPPORT,
            "Support",
            QueueType.INCOMING,
            Strategy.LONGEST_IDLE,
            15.0,
            10.0,
            number="100",
            callback_offer=True,  # waiting callers may press 1 (CONTRACT §12)
        ),
        SALES: QueueConfig(
            SALES, "Sales", QueueType.INCOMING, Strategy.RING_ALL, 12.0, 0.0, number="200"
        ),
        BILLING: QueueConfig(
            BILLING, "Billing", QueueType.INCOMING, Strategy.ROUND_ROBIN, 10.0, 5.0, number="300"
        ),
        CAMPAIGN: QueueConfig(CAMPAIGN, "Campaign", QueueType.OUTGOING),
    }

    def memberships(i: int) -> tuple[Membership, ...]:
        m = []
        if i % 2 == 0 or i % 3 == 0:
            m.append(Membership(SUPPORT, priority=1 + i % 3, supervisor=i == 48))
        if i % 3 != 0:
            m.append(Membership(SALES))
        if i % 5 == 0:
            m.append(Membership(BILLING))
        if i % 4 == 0:
            m.append(Membership(CAMPAIGN))
        return tuple(m)

    agents = {
        AgentId(i): AgentConfig(
            id=AgentId(i),
            username=f"agent{i}",
            firstname=f"Agent{i}",
            memberships=memberships(i),
            lines=(LineId(i),),
        )
        for i in range(1, AGENTS + 1)
    }
    return Directory(agents=agents, lines=lines, queues=queues, aux_reasons=AUX)


@dataclass
class Desk:
    """One agent at work: its tabs, and what it last chose to be."""

    agent: AgentId
    tabs: list[ClientId] = field(default_factory=list)
    logged_in: bool = False

    @property
    def name(self) -> str:
        return f"agent{self.agent}"


class FlakyDatabase:
    """A real store on SQLite whose database fails while ``down`` (every statement raises
    SQLite's ``disk I/O error``), written by the day every virtual minute."""

    def __init__(self, folder: Path) -> None:
        self.journal = folder / "chaos.ucs-journal"
        self.store = Store(f"sqlite:///{folder}/chaos.db", journal=str(self.journal), retry=0.0)
        self.store.migrate()
        self.down = False
        self.health_seen: set[Health] = set()
        event.listen(self.store.engine, "before_cursor_execute", self._statement)

    def _statement(self, *_: Any) -> None:
        if self.down:
            raise sqlite3.OperationalError("disk I/O error")

    def write(self) -> None:
        self.store.flush()
        self.health_seen.add(self.store.health)


class ChaosDay:
    def __init__(self, seed: int, database: FlakyDatabase | None = None) -> None:
        self.rng = random.Random(seed)
        self.db = database
        self.vc = VirtualCenter(
            chaos_directory(),
            start=MORNING,
            passwords={f"agent{i}": f"pass{i}" for i in range(1, AGENTS + 1)},
            tz=PRAGUE,
            store=database.store.deliver if database is not None else None,
        )
        self.desks = {AgentId(i): Desk(AgentId(i)) for i in range(1, AGENTS + 1)}
        self._todo: list[tuple[float, int, Callable[[], None]]] = []
        self._n = itertools.count()
        self.refused: dict[str, int] = {}
        self.done = 0
        self.callers = 0
        self.callbacks = 0
        self.pressed = 0
        """Callers who pressed 1 and left a callback request."""
        self.faults: dict[str, int] = {}
        self.seen: dict[UniqueId, Call] = {}
        self.closing = False
        self._looked = 0

    @property
    def c(self) -> Center:
        return self.vc.center

    # --- scheduling --------------------------------------------------------------------------

    def later(self, seconds: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._todo, (self.vc.now + seconds, next(self._n), action))

    def run_until(self, until: float) -> None:
        next_check = self.vc.now + 300
        while self.vc.now < until:
            step_end = min(until, self.vc.now + 1.0)
            while self._todo and self._todo[0][0] <= step_end:
                when, _, action = heapq.heappop(self._todo)
                self.vc.advance(max(0.0, when - self.vc.now))
                action()
                self.react()
            self.vc.advance(step_end - self.vc.now)
            self.react()
            if self.vc.now >= next_check:
                self.check_invariants()
                next_check += 300

    # --- agents ------------------------------------------------------------------------------

    def cmd(self, desk: Desk, method: str, *args: Any, twice: bool = False) -> Any:
        """A click on one of the agent's tabs; sometimes sent twice (a double click, a retry)."""
        if not desk.tabs:
            return REFUSED
        client = self.rng.choice(desk.tabs)
        result: Any = REFUSED
        for _ in range(2 if twice or self.rng.random() < 0.03 else 1):
            try:
                result = self.vc.call(client, method, *args)
                self.done += 1
            except UcsError as err:
                assert err.code in REFUSALS, f"{method}{args}: {err.code} {err}"
                self.refused[err.code] = self.refused.get(err.code, 0) + 1
        return result

    def open_tab(self, desk: Desk) -> ClientId:
        client = self.vc.connect()
        if desk.logged_in:
            self.vc.feed(Attach(client, desk.agent))  # what a resume with the token does
        desk.tabs.append(client)
        return client

    def close_tab(self, desk: Desk, client: ClientId) -> None:
        self.vc.feed(Disconnect(client))
        desk.tabs.remove(client)

    def start_shift(self, desk: Desk) -> None:
        if not desk.tabs:
            self.open_tab(desk)
        if not desk.logged_in:
            if self.cmd(desk, "login", desk.name, f"pass{desk.agent}") is REFUSED:
                return
            desk.logged_in = True
            for tab in desk.tabs:  # the other tabs follow the login (the one logged in, again)
                self.vc.feed(Attach(tab, desk.agent))
        self.cmd(desk, "selectIdentifier", f"phone{desk.agent}")
        self.cmd(desk, "provision")
        if self.cmd(desk, "changeStatus", "READY") is REFUSED:
            self.later(60, lambda: self.start_shift(desk))  # tries again in a minute
            return
        self.later(self.rng.uniform(1800, 7200), lambda: self.take_break(desk))

    def take_break(self, desk: Desk) -> None:
        if not desk.logged_in or self.closing:
            return
        if self.rng.random() < 0.1:  # the end of a shift: log out, back after a while
            if self.cmd(desk, "logout") is not REFUSED:
                desk.logged_in = False
                self.later(self.rng.uniform(300, 1800), lambda: self.start_shift(desk))
                return
        self.cmd(desk, "changeStatus", "AUX", self.rng.choice(AUX))
        self.later(self.rng.uniform(120, 1800), lambda: self.back_from_break(desk))

    def back_from_break(self, desk: Desk) -> None:
        if desk.logged_in:
            self.cmd(desk, "changeStatus", "READY")
            self.later(self.rng.uniform(1800, 7200), lambda: self.take_break(desk))

    def react(self) -> None:
        """Agents read what their tabs received since the last look, and act on calls that
        ring or connect."""
        effects = self.vc.effects
        new, self._looked = effects[self._looked :], len(effects)
        for eff in new:
            if isinstance(eff, Push) and eff.type == "call.changed":
                desk = self.desks[eff.agent]
                if desk.tabs:  # what a closed tab would have shown, nobody sees
                    self.on_call(desk, eff.body["what"], eff.body["call"])

    def on_call(self, desk: Desk, what: str, call: dict[str, Any]) -> None:
        uid = call["uniqueid"]
        callback = call["data"].get("callback") is True and call["subcalls"] > 0
        mine = (call["direction"] == Direction.INCOMING.value or callback) and call["state"] == 2
        if what == "ringing" and mine and call["connected_user_id"] == desk.agent:
            roll = self.rng.random()
            if roll < 0.08:
                return  # lets it ring (away from the desk)
            if roll < 0.11:
                self.later(self.rng.uniform(1, 4), lambda: self.reject(desk, uid))
                return
            self.later(self.rng.uniform(1, 9), lambda: self.answer(desk, uid))
        elif what == "connect" and call["state"] == 3:
            self.later(self.rng.uniform(5, 40), lambda: self.while_talking(desk, uid))

    def focus(self, desk: Desk, uid: str) -> dict[str, Any] | None:
        """The call ``uid`` as the agent sees it now, if it is the call in focus."""
        state = self.cmd(desk, "state")
        call = state["call"] if state is not REFUSED else None
        return call if call is not None and call["uniqueid"] == uid else None

    def answer(self, desk: Desk, uid: str) -> None:
        if self.focus(desk, uid) is not None:
            self.cmd(desk, "answer")

    def reject(self, desk: Desk, uid: str) -> None:
        if self.focus(desk, uid) is not None:
            self.cmd(desk, "hangup")

    def while_talking(self, desk: Desk, uid: str) -> None:
        call = self.focus(desk, uid)
        if call is None or call["state"] not in (3, 5):
            return
        roll = self.rng.random()
        if call["state"] == 5:
            self.cmd(desk, "unhold")
        elif roll < 0.1:
            self.cmd(desk, "hold")
        elif roll < 0.15:
            self.cmd(desk, "mute")
        elif roll < 0.2:
            self.cmd(desk, "setAccountCode", uid, self.rng.choice(["A1", "B2"]))
        elif roll < 0.26:
            self.cmd(desk, "blindTransfer", self.colleague_or_outside(desk))
            return
        elif roll < 0.32:
            self.consult(desk, uid)
            return
        elif roll < 0.55:
            self.cmd(desk, "hangup")
            return
        self.later(self.rng.uniform(5, 60), lambda: self.while_talking(desk, uid))

    def consult(self, desk: Desk, uid: str) -> None:
        if self.cmd(desk, "transfer") is REFUSED:
            return
        self.cmd(desk, "dial", self.colleague_or_outside(desk))

        def finish() -> None:
            if self.rng.random() < 0.8:
                self.cmd(desk, "finishTransfer")
            else:  # the colleague cannot help: back to the caller
                self.cmd(desk, "hangup")
            self.later(self.rng.uniform(5, 30), lambda: self.while_talking(desk, uid))

        self.later(self.rng.uniform(3, 25), finish)

    def colleague_or_outside(self, desk: Desk) -> str:
        if self.rng.random() < 0.25:
            return self.rng.choice(EXTERNAL)
        other = self.rng.choice([d for d in self.desks.values() if d is not desk])
        return extension(other.agent)

    def dial_out(self, desk: Desk) -> None:
        if self.closing:
            return
        if desk.logged_in:
            result = self.cmd(desk, "dial", self.rng.choice(EXTERNAL), int(CAMPAIGN))
            if result is not REFUSED:
                uid = result["uniqueid"]
                self.later(self.rng.uniform(10, 90), lambda: self.hang_up_own(desk, uid))
        self.later(self.rng.uniform(300, 1500), lambda: self.dial_out(desk))

    def hang_up_own(self, desk: Desk, uid: str) -> None:
        if self.focus(desk, uid) is not None:
            self.cmd(desk, "hangup")

    # --- callers and faults ------------------------------------------------------------------

    def caller_arrives(self) -> None:
        queue = self.rng.choice([SUPPORT, SUPPORT, SALES, BILLING])
        if self.rng.random() < 0.05:  # a callback request (CONTRACT §12), some to a busy line
            number = self.rng.choice([*EXTERNAL[:2], "+420601000001"])
            effects = self.vc.feed(CallbackRequested(queue, number, "Call me back"))
            self.callbacks += 1
        else:
            effects = self.vc.feed(TrunkCall(number=self.rng.choice(EXTERNAL[:2]), queue=queue))
        uid = next(e.uniqueid for e in effects if isinstance(e, Created))
        self.callers += 1
        patience = self.rng.uniform(20, 400)
        self.later(patience, lambda: self.caller_done(uid))
        if self.rng.random() < 0.3:  # presses 1 (or 2) soon, while it may still wait
            keys = self.rng.choice(["1", "1", "2"])
            self.later(self.rng.uniform(0.2, 5), lambda: self.caller_presses(uid, keys))

    def caller_presses(self, uid: UniqueId, keys: str) -> None:
        if uid in self.c.calls:
            effects = self.vc.feed(Dtmf(uid, keys))
            if any(isinstance(e, CallbackTaken) for e in effects):
                self.pressed += 1
                request = next(e.uniqueid for e in effects if isinstance(e, Created))
                self.later(self.rng.uniform(20, 400), lambda: self.caller_done(request))

    def caller_done(self, uid: UniqueId) -> None:
        """The caller hangs up: given up waiting, or finished talking."""
        if uid in self.c.calls:
            self.vc.caller_hangs_up(uid)

    def fault(self) -> None:
        kind = self.rng.choice(
            ["drop", "drop", "tab", "close", "handset", "switch", "switch", "reorder", "phone"]
        )
        self.faults[kind] = self.faults.get(kind, 0) + 1
        desk = self.rng.choice(list(self.desks.values()))
        if kind == "drop" and desk.tabs:  # the network drops; the tab reconnects and resumes
            tab = self.rng.choice(desk.tabs)
            self.close_tab(desk, tab)
            self.later(self.rng.uniform(0.5, 20), lambda: self.reconnect(desk))
        elif kind == "tab" and len(desk.tabs) < 3:
            self.open_tab(desk)
        elif kind == "close" and desk.tabs:  # a tab closed, mid-call or not
            self.close_tab(desk, self.rng.choice(desk.tabs))
            if not desk.tabs:
                self.later(self.rng.uniform(5, 120), lambda: self.reconnect(desk))
        elif kind == "handset":
            on = sorted(self.c.agent_calls.get(desk.agent, ()))
            if on:
                self.vc.feed(HungUp(self.rng.choice(on), LineId(int(desk.agent))))
        elif kind == "switch":
            op = self.rng.choice(["answer", "transfer", "blind_transfer", "hold", "originate"])
            self.vc.switch.fail(op)
        elif kind == "phone":  # a phone goes away (unregistered, or it could not be rung)
            line = LineId(int(desk.agent))
            rung = [u for u, x in self.c.calls.items() for o in x.offers.values() if o.line == line]
            if rung:
                self.vc.feed(SwitchFailed(rung[0], Operation.RING, "not registered", line))
            else:
                self.vc.feed(Registration(line, False))
            back = self.rng.uniform(5, 120)
            self.later(back, lambda: self.vc.feed(Registration(line, True)))
        elif kind == "reorder" and desk.logged_in:  # two tabs click at once, in either order
            clicks = [("hold",), ("unhold",), ("hangup",), ("changeStatus", "READY")]
            for click in self.rng.sample(clicks, 2):
                self.cmd(desk, *click)
        if not self.closing:
            self.later(self.rng.expovariate(1 / 20), self.fault)

    def reconnect(self, desk: Desk) -> None:
        self.open_tab(desk)
        state = self.cmd(desk, "state")  # the snapshot a resumed tab gets
        if state is not REFUSED and state["call"] is not None:
            call = state["call"]
            what = "ringing" if call["state"] == 2 else "connect"
            self.on_call(desk, what, call)

    def arrivals(self) -> None:
        self.caller_arrives()
        if not self.closing:
            self.later(self.rng.expovariate(ARRIVALS_PER_S), self.arrivals)

    # --- the day -----------------------------------------------------------------------------

    def run(self) -> None:
        for desk in self.desks.values():
            self.later(self.rng.uniform(0, 600), lambda d=desk: self.start_shift(d))
            if int(desk.agent) % 4 == 0:  # the campaign's members
                self.later(self.rng.uniform(600, 1800), lambda d=desk: self.dial_out(d))
        # The switch knows registrations (as the SIP switch does): every phone registered.
        self.vc.feed(Registrations(frozenset(self.c.directory.lines)))
        self.later(60, self.arrivals)
        self.later(30, self.fault)
        if self.db is not None:
            self.later(60, self.write_records)
            for start, length in ((2 * 3600, 1800), (6 * 3600, 600)):
                self.later(start, lambda: setattr(self.db, "down", True))
                self.later(start + length, lambda: setattr(self.db, "down", False))
        self.run_until(MORNING + DAY)
        # Closing time: no more callers, faults or breaks; everyone finishes what is going on.
        self.closing = True
        self.run_until(MORNING + DAY + 1800)
        for desk in self.desks.values():
            if not desk.tabs:
                self.reconnect(desk)
            for _ in range(5):  # hang up what is left (a consultation and its held caller)
                if self.c.agent_calls.get(desk.agent):
                    self.cmd(desk, "hangup")
        for uid in [u for u, x in self.c.calls.items() if not x.agents()]:
            self.vc.caller_hangs_up(uid)  # two outside parties a blind transfer put together
        self.vc.advance(600)
        self.check_invariants()
        if self.db is not None:
            self.db.write()

    def write_records(self) -> None:
        assert self.db is not None
        self.db.write()
        self.later(60, self.write_records)

    def check_invariants(self) -> None:
        probe = _Probe(self.vc, self.seen)
        for name in (
            "time_buckets_add_up",
            "cached_activity_is_current",
            "one_offer_at_a_time",
            "offered_agent_is_on_no_other_call",
            "nobody_waits_for_a_free_agent",
            "distribution_indexes_are_current",
            "calls_are_consistent",
            "phones_held_by_one_agent",
            "queue_calls_ring_while_offered",
            "sessions_know_their_connections",
        ):
            getattr(CenterMachine, name)(probe)


@dataclass
class _Probe:
    """What the stateful test's invariants read, for a center driven by the chaos day."""

    vc: VirtualCenter
    seen: dict[UniqueId, Call]
    start: float = MORNING

    @property
    def c(self) -> Center:
        return self.vc.center

    def _agents(self) -> Any:
        yield from sorted(self.c.agents.values(), key=lambda a: a.id)

    def live_calls(self) -> list[Call]:
        return sorted(self.c.calls.values(), key=lambda x: x.uniqueid)

    def _behind_unkept(self, call: Call) -> bool:
        """The stateful test's helper of the same name, which its invariants call."""
        return CenterMachine._behind_unkept(self, call)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [1, 2])
def test_a_chaos_day_leaves_no_stuck_agent_no_lost_call_and_statistics_that_add_up(
    seed: int, tmp_path: Path
) -> None:
    db = FlakyDatabase(tmp_path)
    day = ChaosDay(seed, db)
    day.run()
    vc, c = day.vc, day.c

    assert day.callers > 3000, day.callers
    assert day.callbacks > 100, day.callbacks
    assert day.pressed > 10, day.pressed  # left a callback request in their place
    assert sum(day.faults.values()) > 1000, day.faults

    # No lost call: every call ever created ended, was recorded once, with a cause.
    created = {e.uniqueid for e in vc.effects if isinstance(e, Created)}
    assert not c.calls, f"calls still live: {sorted(c.calls)}"
    assert not vc.switch.ringing, vc.switch.ringing
    assert created <= set(vc.records), sorted(created - set(vc.records))[:10]
    for uid in created:
        call = vc.records[uid].call
        assert call["cause"] != int(Cause.NOT_SET), call
        assert call["disconnected"] is not None, call

    # No stuck agent: nobody is on a call, rung, or in wrap-up long after the last call, and
    # each one's availability is the one it chose last.
    for desk in day.desks.values():
        a = c.agents[desk.agent]
        assert not c.agent_calls.get(desk.agent), (desk.agent, c.agent_calls[desk.agent])
        assert not any(desk.agent in x.offers for x in c.calls.values())
        if desk.logged_in:
            state = vc.call(desk.tabs[0], "state")
            assert state["calls"] == [] and state["call"] is None, state
            assert state["state"] == "READY", (desk.agent, state["state"])
            assert a.status.value in ("READY", "AUX"), (desk.agent, a.status)
        else:
            assert desk.agent not in c.sessions and a.status.value == "OFFLINE", desk.agent

    # Statistics add up: the queues' figures split the agent's, and the center's answered
    # queue calls are the agents' answered offers.
    now = vc.now
    answered = 0
    for a in c.agents.values():
        s = a.stats_at(now)
        figures = s.queues.values()
        assert sum(f.answered for f in figures) == s.in_calls_answered + s.out_calls_answered
        assert sum(f.unanswered for f in figures) == (
            s.in_calls_unanswered + s.out_calls_unanswered
        )
        assert sum(f.transferred for f in figures) == s.transferred
        assert sum(f.transferred_external for f in figures) == s.transferred_external
        answered += s.in_calls_answered
    queue_calls_answered = sum(
        1
        for uid in created
        if (r := vc.records[uid]).queue_id in (SUPPORT, SALES, BILLING)
        and r.call["connected"] is not None
    )
    assert answered == queue_calls_answered, (answered, queue_calls_answered)
    called_back = [
        uid
        for uid in created
        if vc.records[uid].call["data"].get("callback") and vc.records[uid].call["connected"]
    ]
    assert len(called_back) > 50, len(called_back)  # callbacks were dialled and answered

    # Nothing lost to the database's outages: the records waited in the journal, and the
    # database holds every call once with its cause and account codes, and the whole status log.
    assert Health.DEGRADED in db.health_seen and db.store.health is Health.OK
    assert db.store.writer.backlog == 0 and not db.journal.exists()
    with db.store.engine.connect() as conn:
        rows = conn.execute(select(schema.cdr)).mappings().all()
        log = conn.execute(select(schema.status_log)).mappings().all()
    stored = {r["uniqueid"]: r for r in rows}
    assert len(stored) == len(rows) == len(vc.records)
    for uid, record in vc.records.items():
        row = stored[uid]
        assert not row["live"] and row["call"]["cause"] == record.call["cause"], uid
        assert row["account_codes"] == [x.wire() for x in record.account_codes], uid
    assert sorted((r["agent_id"], r["status"], r["reason"], r["at"]) for r in log) == sorted(
        (r.agent, r.status.value, r.reason, r.at) for r in vc.status_log
    )
    db.store.stop()
