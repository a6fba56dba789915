"""The rollup the reports read (docs/reports.md, "Where the figures come from").

Three tables sum the call records and the status log so that a report over a month reads a
few thousand rows instead of hundreds of thousands:

- ``queue_slots``: per queue and 15 minutes of ``created`` (``core.periods.slot_of``) the
  sums of the queue's ended calls: what ``QueueSums`` holds;
- ``agent_call_days``: per agent and local day, queue calls answered and talk time (by the
  call's ``created``) and offers missed (by the offer's end);
- ``agent_days``: per agent, local day, status and AUX reason, the seconds of the spans the
  status log closed, each span cut at local midnights (``core.periods.split_days``).

They are written by the committer (``committer.apply``) in the transaction of the records they
sum, so the two never disagree, a crash or ``kill -9`` included: a ``Rollup`` gathers a batch's
sums (``final``: a call record that becomes final; ``wrapped``: an automatic wrap-up's seconds
added to its call; ``span``: a status log row) and ``flush`` adds them with one statement per
table. A final record written again (an account code set after the call, a batch tried twice)
adds nothing when what the rollup sums is unchanged, and has its slots and days counted again
from the records when it is not.

``answered within target`` depends on the queue's ``service_level_target`` as it is set now:
the writer reads the targets of its batch's queues locked (``targets``: PostgreSQL's
``FOR SHARE``), and a change of a target counts the queue's slots again in its own
transaction (``recount_within``), which waits for the writer's, and the writer for it.

``fill`` makes the three tables from the records once (a database of an earlier version) and
makes the agents' two again when the server's time zone changes (their days are local); the
``settings`` row ``report_rollup`` names the time zone they were made in.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Mapping
from datetime import UTC, date, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, Table, bindparam, case, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ucs.core.model import Cause
from ucs.core.periods import ABANDONED_SHORT, SLOT, day_of, midnight, slot_of, split_days
from ucs.core.queueday import SERVICE_LEVEL_TARGET
from ucs.storage import schema as t

__all__ = [
    "FACTS",
    "MARK",
    "Rollup",
    "existing",
    "fill",
    "recount_within",
    "target_of",
    "targets",
    "tz_from_text",
    "tz_name",
    "tz_text",
]

FACTS = ("queue_id", "created", "waited_from", "answered", "ended", "cause", "agent_id")
"""The columns of a call record the rollup sums, besides ``handled_by`` and ``acw``."""
_READ = (*FACTS, "handled_by", "acw")
MARK = "report_rollup"
"""The settings row naming the time zone the rollup's days were made in."""
_HANGUP = int(Cause.CALLER_HANGUP)
_CHUNK = 5000
"""Records read at once by ``fill``, and sums held before they are written."""


def tz_name(tz: tzinfo) -> str:
    """A name for ``tz`` that tells whether the agents' days were cut in it."""
    return str(getattr(tz, "key", None) or tz)


def tz_text(tz: tzinfo) -> str:
    """``tz`` as text for a child process's command line (``tz_from_text``)."""
    return pickle.dumps(tz).hex()


def tz_from_text(text: str) -> tzinfo:
    found = pickle.loads(bytes.fromhex(text))  # our own parent process wrote it
    if not isinstance(found, tzinfo):
        raise ValueError(f"not a time zone: {found!r}")
    return found


_TARGETS = (
    select(t.queues.c.id, t.queues.c.service_level_target)
    .where(t.queues.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(t.queues.c.id)
    .with_for_update(read=True)
)
_KNOWN = select(t.cdr.c.uniqueid, t.cdr.c.live, *(t.cdr.c[k] for k in _READ)).where(
    t.cdr.c.uniqueid.in_(bindparam("uids", expanding=True))
)
_MISSED = select(
    t.missed_offers.c.uniqueid, t.missed_offers.c.agent_id, t.missed_offers.c.at
).where(t.missed_offers.c.uniqueid.in_(bindparam("uids", expanding=True)))
"""Built once: a batch runs them, and building a statement costs more than running it."""


_PIPELINED = (
    "SELECT id, service_level_target FROM queues WHERE id = ANY(%(ids)s) ORDER BY id FOR SHARE",
    f"SELECT uniqueid, live, {', '.join(_READ)} FROM cdr WHERE uniqueid = ANY(%(uids)s)",
    "SELECT uniqueid, agent_id, at FROM missed_offers WHERE uniqueid = ANY(%(uids)s)",
)
"""The same three reads for psycopg's pipeline mode (``Rollup.load``): sent together, each
with all its keys, and answered in one round trip."""


def targets(conn: Connection, queues: Iterable[int]) -> dict[int, float]:
    """The service-level target of each of ``queues`` as set now (the default for a queue
    removed since), locked until the transaction ends (PostgreSQL's ``FOR SHARE``: a change
    of a target waits for it; SQLite has one writer at a time anyway)."""
    wanted = sorted(set(queues))
    return _targets(wanted, conn.execute(_TARGETS, {"ids": wanted}) if wanted else [])


def _targets(wanted: list[int], rows: Iterable[Any]) -> dict[int, float]:
    found = dict.fromkeys(wanted, SERVICE_LEVEL_TARGET)
    for qid, target in rows:
        found[qid] = SERVICE_LEVEL_TARGET if target is None else float(target)
    return found


def existing(conn: Connection, uids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """What the database holds of these calls: ``live`` and the columns the rollup sums; for
    the final ones also their ``missed`` offers."""
    wanted = sorted(set(uids))
    found: dict[str, dict[str, Any]] = {}
    for at in range(0, len(wanted), 500):
        for row in conn.execute(_KNOWN, {"uids": wanted[at : at + 500]}).mappings():
            found[row["uniqueid"]] = {**row, "missed": []}
    final = sorted(u for u, row in found.items() if not row["live"])
    for at in range(0, len(final), 500):
        _missed(found, conn.execute(_MISSED, {"uids": final[at : at + 500]}))
    return found


def _missed(found: dict[str, dict[str, Any]], rows: Iterable[Any]) -> None:
    """Each final call's missed offers, from ``rows`` (a live call has none yet)."""
    for uid, agent, when in rows:
        row = found.get(uid)
        if row is not None and not row["live"]:
            row["missed"].append((agent, when))


def _read_pipelined(conn: Connection, asked: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """The rows of each statement of ``asked``, sent together on ``conn``'s connection in
    pipeline mode: the first fetch waits for them all."""
    driver = conn.connection.driver_connection
    assert driver is not None
    cursors = [driver.cursor() for _ in asked]
    try:
        for cursor, (sql, params) in zip(cursors, asked, strict=True):
            cursor.execute(sql, params)
        return [cursor.fetchall() for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()


class Rollup:
    """The sums a batch adds to the rollup, written by ``flush`` (``add``, then
    ``recount``)."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.targets: dict[int, float] = {}
        """The targets of the batch's queues (``load``)."""
        self.known: dict[str, dict[str, Any]] = {}
        """What the database holds of the batch's calls, kept as the batch writes them."""
        self.slots: dict[tuple[int, int], list[Any]] = {}
        """(queue, slot) → offered, answered, abandoned, short, within, wait, handle, max."""
        self.calls: dict[tuple[int, date], list[Any]] = {}
        """(agent, day) → answered, talk, missed."""
        self.times: dict[tuple[int, date, str, str], float] = {}
        self._recount_slots: set[tuple[int, int]] = set()
        self._recount_days: set[tuple[int, date]] = set()

    # --- what is added ----------------------------------------------------------------------

    def call(self, row: Mapping[str, Any], target: float) -> None:
        """An ended call (``row``: its record's columns ``_READ``); ``target``: its queue's."""
        queue, answered, ended, waited_from = (
            row["queue_id"],
            row["answered"],
            row["ended"],
            row["waited_from"],
        )
        talk = ended - answered if answered is not None and ended is not None else None
        if queue is not None:
            waited = None
            if answered is not None and waited_from is not None:
                waited = answered - waited_from
            abandoned = answered is None and row["cause"] == _HANGUP
            short = (
                abandoned
                and ended is not None
                and waited_from is not None
                and ended - waited_from <= ABANDONED_SHORT
            )
            most = answered if answered is not None else ended
            sums = self._slot((queue, slot_of(row["created"])))
            sums[0] += 1
            sums[1] += answered is not None
            sums[2] += abandoned
            sums[3] += short
            sums[4] += waited is not None and waited <= target
            sums[5] += waited or 0.0
            sums[6] += talk + (row["acw"] or 0.0) if talk is not None else 0.0
            if most is not None and waited_from is not None:
                sums[7] = _max(sums[7], most - waited_from)
        agent = row["agent_id"]
        if agent is not None:
            day = self._calls((agent, day_of(row["created"], self.tz)))
            day[0] += answered is not None and row["handled_by"] == agent
            day[1] += talk or 0.0

    def missed(self, agent: int, at: float) -> None:
        self._calls((agent, day_of(at, self.tz)))[2] += 1

    def span(self, agent: int, status: str, reason: str | None, since: float, at: float) -> None:
        """A status log row: the agent was ``status`` (``reason``) from ``since`` to ``at``."""
        key_reason = (reason or "") if status == "AUX" else ""
        for day, seconds in split_days(since, at, self.tz):
            key = (agent, day, status, key_reason)
            self.times[key] = self.times.get(key, 0.0) + seconds

    def load(
        self,
        conn: Connection,
        queues: Iterable[int],
        uids: Iterable[str],
        *,
        pipeline: bool = False,
    ) -> None:
        """Before a batch is written: the targets of its final calls' ``queues`` (locked:
        first in the transaction, so that a change of a target waits for it, or it for the
        change) and what the database holds of the calls it ends or wraps up (``uids``):
        two statements for the batch, not one a record. ``pipeline``: ``conn`` is in
        psycopg's pipeline mode, and the reads go to its cursors (``_PIPELINED``)."""
        if not pipeline:
            self.targets = targets(conn, queues)
            self.known = existing(conn, uids)
            return
        ids, keys = sorted(set(queues)), sorted(set(uids))
        asked: list[tuple[str, dict[str, Any]]] = [(_PIPELINED[0], {"ids": ids})] if ids else []
        if keys:
            asked += [(_PIPELINED[1], {"uids": keys}), (_PIPELINED[2], {"uids": keys})]
        answers = _read_pipelined(conn, asked)
        self.targets = _targets(ids, answers[0] if ids else [])
        columns = ("uniqueid", "live", *_READ)
        found = answers[-2] if keys else []
        self.known = {r[0]: {**dict(zip(columns, r, strict=True)), "missed": []} for r in found}
        _missed(self.known, answers[-1] if keys else [])

    def final(
        self, rows: list[dict[str, Any]], missed: Mapping[str, list[tuple[int, float]]]
    ) -> None:
        """Call records written final (``rows``: their columns, ``missed``: their missed
        offers by uniqueid), of calls ``load`` was told of."""
        for row in rows:
            uid = row["uniqueid"]
            old = self.known.get(uid)
            offers = missed.get(uid, [])
            acw = old["acw"] if old is not None else None
            self.known[uid] = {**row, "live": False, "acw": acw, "missed": offers}
            if old is None or old["live"]:
                self.call({**row, "acw": acw}, target_of(self.targets, row["queue_id"]))
                for agent, at in offers:
                    self.missed(agent, at)
            elif any(old[k] != row[k] for k in (*FACTS, "handled_by")) or sorted(
                old["missed"]
            ) != sorted(offers):
                for found, offered in ((old, old["missed"]), (row, offers)):
                    if found["queue_id"] is not None:
                        self._recount_slots.add((found["queue_id"], slot_of(found["created"])))
                    if found["agent_id"] is not None:
                        day = day_of(found["created"], self.tz)
                        self._recount_days.add((found["agent_id"], day))
                    for agent, at in offered:
                        self._recount_days.add((agent, day_of(at, self.tz)))

    def wrapped(self, uid: str, seconds: float) -> None:
        """An automatic wrap-up of ``seconds`` after call ``uid`` (of those ``load`` was told
        of) ended, written to its record: a final, answered queue call's handle time grows by
        the difference."""
        row = self.known.get(uid)
        if row is None:
            return
        before, row["acw"] = row["acw"], seconds
        if row["live"] or row["queue_id"] is None:
            return
        if row["answered"] is None or row["ended"] is None:
            return
        self._slot((row["queue_id"], slot_of(row["created"])))[6] += seconds - (before or 0.0)

    # --- writing ------------------------------------------------------------------------------

    def flush(self, conn: Connection) -> None:
        """Add the sums to the tables, then count again from the records what must be."""
        self.add(conn)
        self.recount(conn)

    def add(self, conn: Connection) -> None:
        """Add the sums to the tables (writes only: no statement's rows are read back)."""
        _add(
            conn,
            t.queue_slots,
            [
                dict(zip(_SLOT_COLUMNS, (q, s, *sums), strict=True))
                for (q, s), sums in self.slots.items()
            ],
        )
        _add(
            conn,
            t.agent_call_days,
            [
                {"agent_id": a, "day": d, "answered": n, "talk": talk, "missed": m}
                for (a, d), (n, talk, m) in self.calls.items()
            ],
        )
        _add(
            conn,
            t.agent_days,
            [
                {"agent_id": a, "day": d, "status": s, "reason": r, "seconds": v}
                for (a, d, s, r), v in self.times.items()
            ],
        )
        self.slots, self.calls, self.times = {}, {}, {}

    def recount(self, conn: Connection) -> None:
        """Count again from the records the sums that a changed final record made wrong."""
        if self._recount_slots:
            _recount_slots(conn, sorted(self._recount_slots))
        if self._recount_days:
            _recount_days(conn, sorted(self._recount_days), self.tz)
        self._recount_slots, self._recount_days = set(), set()

    @property
    def held(self) -> int:
        return len(self.slots) + len(self.calls) + len(self.times)

    def _slot(self, key: tuple[int, int]) -> list[Any]:
        found = self.slots.get(key)
        if found is None:
            found = self.slots[key] = [0, 0, 0, 0, 0, 0.0, 0.0, None]
        return found

    def _calls(self, key: tuple[int, date]) -> list[Any]:
        found = self.calls.get(key)
        if found is None:
            found = self.calls[key] = [0, 0.0, 0]
        return found


_SLOT_COLUMNS = (
    "queue_id",
    "slot",
    "offered",
    "answered",
    "abandoned",
    "abandoned_short",
    "within",
    "wait",
    "handle",
    "max_wait",
)


def target_of(targets: Mapping[int, float], queue: int | None) -> float:
    return targets.get(queue, SERVICE_LEVEL_TARGET) if queue is not None else SERVICE_LEVEL_TARGET


def _max(a: float | None, b: float) -> float:
    return b if a is None or b > a else a


_STATEMENTS: dict[tuple[str, str], Any] = {}


def _add(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert each row, or add it to the row with the same key (``max_wait``: the larger)."""
    if not rows:
        return
    shape = (conn.dialect.name, table.name)
    stmt = _STATEMENTS.get(shape)
    if stmt is None:
        ins = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)
        keys = [c.name for c in table.primary_key.columns]
        update: dict[str, Any] = {}
        for column in table.columns:
            if column.name in keys:
                continue
            mine, theirs = table.c[column.name], ins.excluded[column.name]
            if column.name == "max_wait":
                update[column.name] = case(
                    (theirs.is_(None), mine),
                    (mine.is_(None), theirs),
                    (theirs > mine, theirs),
                    else_=mine,
                )
            else:
                update[column.name] = mine + theirs
        stmt = _STATEMENTS[shape] = ins.on_conflict_do_update(index_elements=keys, set_=update)
    conn.execute(stmt, rows)


# --- counting again from the records ------------------------------------------------------------


def _calls_in(conn: Connection, *where: Any) -> list[dict[str, Any]]:
    c = t.cdr.c
    query = select(*(c[k] for k in _READ)).where(c.live.is_(False), *where)
    return [dict(row) for row in conn.execute(query).mappings()]


def _recount_slots(conn: Connection, keys: list[tuple[int, int]]) -> None:
    """Each (queue, slot) of ``keys`` again from the records."""
    c, s = t.cdr.c, t.queue_slots.c
    found = targets(conn, {q for q, _ in keys})
    fresh = Rollup(UTC)  # slots are the same in every time zone
    for queue, slot in keys:
        conn.execute(delete(t.queue_slots).where(s.queue_id == queue, s.slot == slot))
        start = slot * SLOT
        for row in _calls_in(
            conn, c.queue_id == queue, c.created >= start, c.created < start + SLOT
        ):
            fresh.call({**row, "agent_id": None}, found[queue])
    fresh.flush(conn)


def _recount_days(conn: Connection, keys: list[tuple[int, date]], tz: tzinfo) -> None:
    """Each (agent, day) of ``keys`` again from the records: calls and missed offers."""
    c, d, m = t.cdr.c, t.agent_call_days.c, t.missed_offers.c
    fresh = Rollup(tz)
    for agent, day in keys:
        conn.execute(delete(t.agent_call_days).where(d.agent_id == agent, d.day == day))
        start, end = midnight(day, tz), midnight(day + timedelta(days=1), tz)
        for row in _calls_in(conn, c.agent_id == agent, c.created >= start, c.created < end):
            fresh.call({**row, "queue_id": None}, SERVICE_LEVEL_TARGET)
        query = select(m.at).where(m.agent_id == agent, m.at >= start, m.at < end)
        for (at,) in conn.execute(query):
            fresh.missed(agent, at)
    fresh.flush(conn)


def recount_within(conn: Connection, queue: int) -> None:
    """The queue's target changed (or the queue is gone: the default applies): count its
    answers within the target again, in every slot."""
    target = targets(conn, [queue])[queue]
    c, s = t.cdr.c, t.queue_slots.c
    within = (
        select(func.count())
        .where(
            c.queue_id == queue,
            c.live.is_(False),
            c.created >= s.slot * SLOT,
            c.created < (s.slot + 1) * SLOT,
            c.answered.is_not(None),
            c.answered - c.waited_from <= target,
        )
        .scalar_subquery()
    )
    conn.execute(t.queue_slots.update().where(s.queue_id == queue).values(within=within))


# --- filling it from the records --------------------------------------------------------------


def fill(conn: Connection, tz: tzinfo, *, force: bool = False) -> bool:
    """Make the rollup from the records if it was not made yet (``force``: again), or its
    agents' days if they were cut in another time zone than ``tz``. Reads the records a
    chunk at a time and writes the sums as they grow (memory stays bounded). Returns whether
    anything was made. The caller holds the writers off (a transaction that writes first)."""
    s = t.settings.c
    mark = conn.execute(select(s.value).where(s.key == MARK)).scalar()
    calls = force or mark is None
    agents = calls or mark != tz_name(tz)
    if not agents:
        return False
    for table in (t.agent_days, t.agent_call_days, *([t.queue_slots] if calls else [])):
        conn.execute(delete(table))
    targets_now = _all_targets(conn)
    roll = Rollup(tz)
    c = t.cdr.c
    last = ""
    while True:
        rows = conn.execute(
            select(c.uniqueid, *(c[k] for k in _READ))
            .where(c.live.is_(False), c.uniqueid > last)
            .order_by(c.uniqueid)
            .limit(_CHUNK)
        ).all()
        if not rows:
            break
        last = rows[-1].uniqueid
        for row in rows:
            fields = dict(row._mapping)
            if not calls:
                fields["queue_id"] = None
            roll.call(fields, target_of(targets_now, fields["queue_id"]))
        _written(conn, roll)
    m = t.missed_offers.c
    for _, agent, at in _chunks(conn, t.missed_offers, m.agent_id, m.at):
        roll.missed(agent, at)
        _written(conn, roll)
    log = t.status_log.c
    spans = (log.agent_id, log.prev_status, log.prev_reason, log.prev_since, log.at)
    for _, agent, status, reason, since, at in _chunks(
        conn, t.status_log, *spans, where=log.prev_status.is_not(None)
    ):
        roll.span(agent, status, reason, since, at)
        _written(conn, roll)
    roll.flush(conn)
    value = tz_name(tz)
    if mark is None:
        conn.execute(t.settings.insert().values(key=MARK, value=value))
    else:
        conn.execute(t.settings.update().where(s.key == MARK).values(value=value))
    return True


def _written(conn: Connection, roll: Rollup) -> None:
    if roll.held >= _CHUNK:
        roll.flush(conn)


def _chunks(conn: Connection, table: Table, *columns: Any, where: Any = None) -> Iterable[Any]:
    """The rows of ``table`` (its ``id`` and ``columns``) a chunk at a time."""
    last = 0
    while True:
        query = select(table.c.id, *columns).where(table.c.id > last)
        if where is not None:
            query = query.where(where)
        rows = conn.execute(query.order_by(table.c.id).limit(_CHUNK)).all()
        if not rows:
            return
        last = rows[-1][0]
        yield from rows


def _all_targets(conn: Connection) -> dict[int, float]:
    q = t.queues.c
    return {
        qid: SERVICE_LEVEL_TARGET if target is None else float(target)
        for qid, target in conn.execute(select(q.id, q.service_level_target))
    }
