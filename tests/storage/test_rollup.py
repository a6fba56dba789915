"""The reports' rollup (``storage/rollup.py``) against the records it sums, on SQLite and
PostgreSQL: randomized days of calls and status changes, written through the store's own
writer path, give the same sums from the rollup (``storage/reports.py``) as straight from the
records (``raw_reports.py``, the queries before the rollup), period after period (hours and
days, across midnights and a DST change, in zones with whole-hour, half-hour and 45-minute
offsets), while the day is still going on and after it, and after what changes them: a
queue's target changed, a queue removed, records written twice, calls ended by a restart,
the rollup made again from the records, the server's time zone changed.

Times are whole eighths of a second, so that every sum is exact in binary whatever the order
of the additions: the two ways must agree to the last bit, not nearly.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, text

from tests.storage import raw_reports
from ucs.core.call import AccountCode
from ucs.core.effects import CallRecord, StatusRecord
from ucs.core.model import Cause, Status
from ucs.core.periods import (
    AgentSums,
    Period,
    agent_rows,
    midnight,
    period,
    queue_rows,
    slot_of,
    split_days,
)
from ucs.storage import committer, reports, rollup
from ucs.storage import schema as t
from ucs.storage.store import Store

QUEUES = {1: ("Support", 20), 2: ("Sales", 7), 3: ("Šetření", 30)}
AGENTS = [(a, f"agent{a}", f"Agent {a}") for a in range(1, 5)]
REASONS = ["Lunch", "Break", None]
DAYS = 3


def _q(x: float) -> float:
    """A moment or a length in whole eighths of a second."""
    return round(x * 8) / 8


@dataclasses.dataclass
class Scenario:
    tz: ZoneInfo
    first: date
    start: float
    end: float
    events: list[tuple[float, int, Any]]
    """(when, order within a moment, record) in the order the core would make them."""


def scenario(seed: int, tz: ZoneInfo, first: date) -> Scenario:
    rng = random.Random(seed)
    start = midnight(first, tz)
    end = midnight(first + timedelta(days=DAYS), tz)
    events: list[tuple[float, int, Any]] = []
    statuses: dict[int, list[StatusRecord]] = {}
    for agent, _, _ in AGENTS:
        at = _q(start - rng.uniform(0, 7200))
        before: tuple[Status, str | None, float] | None = None
        found = []
        while at < end + 7200:
            status = rng.choice(
                [Status.READY, Status.READY, Status.AUX, Status.ACW, Status.OFFLINE]
            )
            reason = rng.choice(REASONS) if status is Status.AUX else None
            found.append(StatusRecord(agent, status, reason, at, previous=before))
            before = None if status is Status.OFFLINE else (status, reason, at)
            at = _q(at + rng.choice([0.0, rng.expovariate(1 / 4000), rng.uniform(0, 30000)]))
        statuses[agent] = found
    for n in range(140):
        created = _q(rng.uniform(start - 1800, end + 1800))
        if rng.random() < 0.05:  # on a slot's first instant
            created = float(slot_of(created) * 900)
        uid = f"{created:.3f}.{n}"
        queue = rng.choice([1, 2, 3, None])
        agent = rng.choice(AGENTS)[0]
        enqueued = _q(created + rng.uniform(0, 3)) if queue is not None else None
        waited_from = enqueued if enqueued is not None else created
        wait = rng.choice([_q(rng.expovariate(1 / 20)), 7.0, 20.0, 30.0, _q(rng.uniform(0, 6))])
        answered = rng.random() < 0.6
        connected = waited_from + wait if answered else None
        disconnected = _q((connected or waited_from + wait) + rng.expovariate(1 / 200) * answered)
        cause = (
            Cause.CALLED_HANGUP
            if answered
            else rng.choice([Cause.CALLER_HANGUP, Cause.CALLER_HANGUP, Cause.UNAVAILABLE])
        )
        call: dict[str, Any] = {"uniqueid": uid, "created": created, "connected": None}
        if queue is None:
            call["caller_user_id"] = agent
        live = CallRecord(dict(call), (), queue, live=True, enqueued=enqueued)
        events.append((created, 0, live))
        missed = tuple(
            (rng.choice(AGENTS)[0], _q(rng.uniform(created, disconnected)))
            for _ in range(rng.choice([0, 0, 1, 2]))
        )
        call.update(connected=connected, disconnected=disconnected, cause=int(cause))
        if answered and queue is not None:
            call["connected_user_id"] = agent
        final = CallRecord(
            call,
            (),
            queue,
            enqueued=enqueued,
            handled_by=agent if answered and queue is not None else None,
            missed=missed if queue is not None else (),
        )
        if rng.random() < 0.08:
            continue  # still live when the server stops (``end_live_calls``)
        events.append((disconnected, 1, final))
        if rng.random() < 0.06:  # written again with what the rollup sums changed
            other = dict(call, disconnected=disconnected + 10.0, cause=int(Cause.UNKNOWN))
            if queue is not None:
                other["connected"] = None
            again = dataclasses.replace(final, call=other, handled_by=None, missed=missed[:1])
            events.append((_q(disconnected + rng.uniform(600, 7200)), 1, again))
        if rng.random() < 0.15:  # an account code set after the call: the record again
            events.append(
                (
                    _q(disconnected + rng.uniform(30, 3600)),
                    1,
                    dataclasses.replace(final, account_codes=(AccountCode("X"),)),
                )
            )
        if answered and queue is not None:  # its wrap-up ends with the agent's next change
            later = [i for i, r in enumerate(statuses[agent]) if r.at > disconnected]
            if later:
                i = later[0]
                wrap = (uid, _q(rng.uniform(0, 60)))
                statuses[agent][i] = dataclasses.replace(statuses[agent][i], wrapped=wrap)
    for found in statuses.values():
        events += [(r.at, 2, r) for r in found]
    events.sort(key=lambda e: (e[0], e[1]))
    return Scenario(tz, first, start, end, events)


def _open(url: str, tz: ZoneInfo) -> Store:
    store = Store(url, tz=tz)
    store.migrate()
    with store.engine.begin() as conn:
        if not conn.execute(select(func.count()).select_from(t.queues)).scalar():
            conn.execute(
                insert(t.queues),
                [
                    {"id": q, "name": name, "type": 1, "strategy": "ring-all"}
                    | {"ring_timeout": 15.0, "wrapup": 0.0, "service_level_target": target}
                    for q, (name, target) in QUEUES.items()
                ],
            )
            conn.execute(
                insert(t.agents),
                [{"id": a, "username": u, "password_hash": "-", "data": {}} for a, u, _ in AGENTS],
            )
    return store


def _deliver(store: Store, events: list[tuple[float, int, Any]], rng: random.Random) -> None:
    """Through the writer's path, in batches of random sizes; now and then a batch of final
    records committed twice (a batch tried again after its commit was not acknowledged)."""
    records = [r for _, _, r in events]
    while records:
        n = rng.randint(1, 25)
        batch, records = records[:n], records[n:]
        store.deliver_all(batch)
        store.flush()
        finals = [r for r in batch if isinstance(r, CallRecord) and not r.live]
        if finals and rng.random() < 0.2:
            store.writer.local.commit(finals, None)


def _normal(sums: dict[int, AgentSums]) -> dict[int, Any]:
    """Agent sums with the statuses of no time left out (a status entered and left in the same
    instant is a key of zero seconds one way and no key the other)."""
    return {
        a: (s.answered, s.missed, s.talk, {k: v for k, v in s.times.items() if v != 0.0})
        for a, s in sums.items()
    }


def _periods(s: Scenario) -> Iterator[tuple[date, date]]:
    last = s.first + timedelta(days=DAYS - 1)
    yield s.first, last
    for d in range(DAYS):
        day = s.first + timedelta(days=d)
        yield day, day


def same(store: Store, s: Scenario, now: float, tz: ZoneInfo | None = None) -> int:
    """Both ways give the same sums and figures for every period of the scenario's days;
    how many periods were compared (those that have begun by ``now``)."""
    tz = tz or s.tz
    engine, ids = store.engine, [a for a, _, _ in AGENTS]
    names = {q: name for q, (name, _) in QUEUES.items()}
    compared = 0
    for a, b in _periods(s):
        for interval in ("hour", "day"):
            p = period(a.isoformat(), b.isoformat(), interval, tz, a)
            if p.start >= now:
                continue
            ours = reports.queue_slots(engine, p.slots, None)
            theirs = raw_reports.queue_slots(engine, p.start, p.end, None)
            assert ours == theirs, (a, b)
            assert queue_rows(p, names, ours) == queue_rows(p, names, theirs)
        p = period(a.isoformat(), b.isoformat(), "day", tz, a)
        if p.start >= now:
            continue
        stop = min(p.end, now)
        ours_a = reports.agent_sums(engine, (p.first, p.last), p.start, stop, ids)
        theirs_a = raw_reports.agent_sums(engine, p.start, stop, ids)
        assert _normal(ours_a) == _normal(theirs_a), (a, b, now)
        assert agent_rows(AGENTS, ours_a) == agent_rows(AGENTS, theirs_a)
        compared += 1
    return compared


PLACES = [
    ("Europe/Prague", date(2026, 10, 24)),  # 25 October: 25 hours
    ("Australia/Lord_Howe", date(2026, 10, 3)),  # 4 October: clocks go on half an hour
    ("Asia/Kathmandu", date(2026, 3, 1)),  # +05:45 all year
]


@pytest.mark.parametrize(("zone", "first"), PLACES)
@pytest.mark.parametrize("seed", [1, 2])
def test_the_rollup_sums_what_the_records_sum(
    db_url: str, zone: str, first: date, seed: int
) -> None:
    tz = ZoneInfo(zone)
    s = scenario(seed, tz, first)
    store = _open(db_url, tz)
    rng = random.Random(seed)
    try:
        # While the days go on: the records up to a moment, read at that moment.
        done = 0
        for now in sorted(_q(rng.uniform(s.start, s.end)) for _ in range(3)):
            upto = [e for e in s.events[done:] if e[0] <= now]
            _deliver(store, upto, rng)
            done += len(upto)
            assert same(store, s, now) >= 1
        _deliver(store, s.events[done:], rng)
        after = s.end + 86400
        assert same(store, s, after) == 1 + DAYS
        # Calls live when the server stopped end at its restart.
        assert store.end_live_calls(after) > 0
        same(store, s, after)
        # A queue's target changed; a queue removed (its calls keep the default target).
        assert store.update(t.queues, 1, {"service_level_target": 11})
        same(store, s, after)
        assert store.delete(t.queues, 2)
        same(store, s, after)
        # Made again from the records: the same.
        before = _tables(store)
        assert store.roll_up(force=True)
        assert _tables(store) == before
        same(store, s, after)
    finally:
        store.stop()


def _tables(store: Store) -> dict[str, list[Any]]:
    with store.engine.connect() as conn:
        return {
            table.name: sorted(tuple(r) for r in conn.execute(select(table)))
            for table in (t.queue_slots, t.agent_days, t.agent_call_days)
        }


def test_another_time_zone_cuts_the_agents_days_again(db_url: str) -> None:
    """The days of the agents' time are local: a server started in another time zone makes
    them again from the records at its start (the queues' slots are the same in every one)."""
    prague, first = ZoneInfo("Europe/Prague"), date(2026, 10, 24)
    s = scenario(3, prague, first)
    store = _open(db_url, prague)
    _deliver(store, s.events, random.Random(3))
    slots = _tables(store)["queue_slots"]
    store.stop()
    tokyo = ZoneInfo("Asia/Tokyo")
    store = _open(db_url, tokyo)
    try:
        assert not store.roll_up()  # made at the start (``migrate``), once
        assert _tables(store)["queue_slots"] == slots
        again = Scenario(
            tokyo, first, midnight(first, tokyo), midnight(first + timedelta(days=DAYS), tokyo), []
        )
        assert same(store, again, s.end + 86400, tokyo) == 1 + DAYS
    finally:
        store.stop()


def test_a_database_of_an_earlier_version_gets_its_rollup_at_the_first_start(db_url: str) -> None:
    """Records written before the rollup existed (here: the rollup emptied and its mark
    removed, as after migration 0015) are summed at the next start."""
    tz = ZoneInfo("Europe/Prague")
    s = scenario(4, tz, date(2026, 10, 24))
    store = _open(db_url, tz)
    _deliver(store, s.events, random.Random(4))
    made = _tables(store)
    with store.engine.begin() as conn:
        for table in (t.queue_slots, t.agent_days, t.agent_call_days):
            conn.execute(table.delete())
        conn.execute(t.settings.delete().where(t.settings.c.key == "report_rollup"))
    store.stop()
    store = _open(db_url, tz)
    try:
        assert _tables(store) == made
        assert same(store, s, s.end + 86400) == 1 + DAYS
    finally:
        store.stop()


def test_split_days_cuts_at_local_midnights_dst_included() -> None:
    tz = ZoneInfo("Europe/Prague")
    m24, m25, m26 = (midnight(date(2026, 10, d), tz) for d in (24, 25, 26))
    assert m26 - m25 == 25 * 3600
    assert split_days(m24 + 3600, m26 + 60, tz) == [
        (date(2026, 10, 24), 23 * 3600.0),
        (date(2026, 10, 25), 25 * 3600.0),
        (date(2026, 10, 26), 60.0),
    ]
    assert split_days(m25 + 10, m25 + 10, tz) == []
    assert split_days(m25 + 10, m25 - 5, tz) == [(date(2026, 10, 24), -15.0)]  # clock set back


def test_slot_of_is_exact_at_a_slots_edge() -> None:
    edge = 1_800_000_000.0  # a multiple of 900
    assert slot_of(edge) == 2_000_000
    assert slot_of(edge - 2**-22) == 1_999_999  # divides to 2,000,000.0 in floating point
    assert slot_of(edge + 899.999) == 2_000_000


def _labels(p: Period) -> list[str]:
    return [iv.label for iv in p.intervals()]


def test_hours_of_a_half_hour_dst_change_and_a_45_minute_zone() -> None:
    """Lord Howe Island moves its clocks by half an hour: the day they go on has 23 rows and
    the day they go back 24, each with an hour 01:00 of 90 minutes; Kathmandu's hours begin
    at a quarter past a UTC hour."""
    howe = ZoneInfo("Australia/Lord_Howe")
    on = period("2026-10-04", "2026-10-04", "hour", howe, date(2026, 10, 4))
    labels = _labels(on)
    assert len(labels) == 23
    assert labels[1:4] == [
        "2026-10-04T01:00:00+10:30",
        "2026-10-04T03:00:00+11:00",  # 02:00-02:30 does not exist: 01:00 lasts 30 minutes
        "2026-10-04T04:00:00+11:00",
    ]
    lengths = [iv.end - iv.start for iv in on.intervals()]
    assert lengths[1] == 5400 and sum(lengths) == 23.5 * 3600
    back = period("2026-04-05", "2026-04-05", "hour", howe, date(2026, 4, 5))
    hours = back.intervals()
    assert len(hours) == 24
    assert [iv.label for iv in hours[1:3]] == [
        "2026-04-05T01:00:00+11:00",
        "2026-04-05T02:00:00+10:30",
    ]
    assert hours[1].end - hours[1].start == 5400
    kathmandu = ZoneInfo("Asia/Kathmandu")
    day = period("2026-03-01", "2026-03-01", "hour", kathmandu, date(2026, 3, 1))
    assert len(day.intervals()) == 24
    assert all(iv.start % 900 == 0 and iv.start % 3600 == 900 for iv in day.intervals())
    assert datetime.fromtimestamp(day.intervals()[5].start, kathmandu).hour == 5


def test_a_change_of_target_waits_for_a_writer_that_read_the_old_one(pg_url: str) -> None:
    """PostgreSQL: a writer's batch reads its queues' targets locked (``FOR SHARE``), so a
    change of a target (which counts the queue's slots again) waits until the batch has
    committed, and then counts the batch's calls too: neither misses the other."""
    tz = ZoneInfo("Europe/Prague")
    store = _open(pg_url, tz)
    created = midnight(date(2026, 11, 24), tz) + 8 * 3600
    call = {"uniqueid": f"{created}.1", "created": created, "connected": created + 25}
    call |= {"disconnected": created + 100, "cause": int(Cause.CALLED_HANGUP)}
    record = CallRecord(call, (), 1, enqueued=created, handled_by=1)
    changed = threading.Event()
    try:
        with store.engine.begin() as conn:
            roll = rollup.Rollup(tz)
            roll.load(conn, {1}, {call["uniqueid"]})  # the writer's batch: target 20 s
            assert roll.targets == {1: 20.0}
            worker = threading.Thread(
                target=lambda: (
                    changed.set()
                    if store.update(t.queues, 1, {"service_level_target": 30})
                    else None
                )
            )
            worker.start()
            _until_waiting_for_a_lock(conn)
            assert not changed.is_set()
            committer.apply(conn, [record], tz)  # within 20 s? no: it waited 25
        worker.join(30)
        assert changed.is_set()
        with store.engine.connect() as conn:
            within = conn.execute(select(t.queue_slots.c.within)).scalars().all()
        assert within == [1]  # counted again under 30 s, the batch's call included
    finally:
        store.stop()


def _until_waiting_for_a_lock(conn: Any) -> None:
    """Until another session of the database waits for a lock (the change of target)."""
    with conn.engine.connect() as probe:
        for _ in range(600):
            waiting = probe.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar()
            if waiting:
                return
            probe.rollback()
            time.sleep(0.05)
    raise AssertionError("the change of target never waited for the writer")
