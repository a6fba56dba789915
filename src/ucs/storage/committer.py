"""The committer: the one place that writes a batch of records to the database.

The writer (``writer.py``) decides *what* goes to the database and in which order (batches,
the journal, health); a committer writes one batch, with the journal's mark, in one
transaction, and says how it failed: ``Outage`` (the database cannot be reached or written) or
``Refused`` (the database refused something in the batch for itself).

Two of them: ``LocalCommitter`` writes in the calling thread; ``ProcessCommitter`` hands each
batch to a child process of its own (``serve``, in a new interpreter) that writes it with
its own connection. A server runs the second: SQLAlchemy's statement building and the JSON of
each call record are Python work, which in a thread holds the interpreter's lock while the
event loop waits for it (measured in docs/performance.md, "A slow day"); in a process of its own
it runs beside the loop, on the other core. The child ends when its parent closes the pipe
(a stop, or the parent's death: kill -9 included) and ignores the terminal's Ctrl-C and
SIGTERM, so the parent can still hand it the last records while it stops.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import traceback
from collections.abc import Iterable
from datetime import UTC, tzinfo
from multiprocessing.connection import Connection as Pipe
from typing import Any, Protocol

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    insert,
    make_url,
)
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from ucs.core.directory import DEFAULT_PARTITION
from ucs.core.effects import AgentRecord, CallRecord, SessionRecord, StatusRecord
from ucs.core.ids import AgentId, arrival_seq
from ucs.storage import outbox, rollup
from ucs.storage import schema as t
from ucs.storage.journal import (
    OutboxEvents,
    Record,
    RowDeleted,
    RowUpserted,
    TokenIssued,
    TokensRevoked,
)
from ucs.storage.lease import Fence, Fenced, check
from ucs.storage.upsert import upsert

__all__ = [
    "Committer",
    "LocalCommitter",
    "Outage",
    "ProcessCommitter",
    "Refused",
    "make_engine",
    "serve",
    "shared_across_processes",
    "upsert",
]

log = logging.getLogger("ucs.store")

Mark = tuple[str, str] | None
"""A settings row (key, value) to write in the batch's transaction: how far the journal is."""


class Outage(Exception):
    """The database cannot be reached or written (as opposed to refusing one record)."""


class Refused(Exception):
    """The database refused the batch for something in it; the message says what (and, from a
    child process, carries its traceback)."""


class Committer(Protocol):
    def commit(self, batch: list[Record], mark: Mark) -> None:
        """Write ``batch`` and ``mark`` in one transaction; raise ``Outage`` or ``Refused``,
        or ``Fenced`` (a node of a cluster whose partition has a newer owner)."""

    def close(self) -> None: ...


def _is_outage(exc: BaseException) -> bool:
    """The database cannot be reached: SQLAlchemy's wrapping of it, or psycopg's own, raised
    where SQLAlchemy does not wrap it (a pipeline's sync, the fence's cursor)."""
    if isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return True
    if not type(exc).__module__.startswith("psycopg"):
        return False
    import psycopg  # here: a server on SQLite never needs it

    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)


def why(exc: BaseException) -> str:
    """One line for people: the driver's own message, when there is one."""
    cause = exc.__cause__ or exc
    text = str(getattr(cause, "orig", None) or cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0] if text else ''}"[:300]


# --- the engine -----------------------------------------------------------------------------


def engine_options(url: str) -> dict[str, Any]:
    """``connect_args`` for ``url``: a PostgreSQL host that stops answering must fail the
    writer within seconds (and send it to the journal), not hang it for the kernel's two
    hours."""
    if url.startswith("postgresql"):
        return {
            "connect_timeout": 5,
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 3,
            "keepalives_count": 3,
        }
    return {}


def make_engine(url: str, *, pre_ping: bool = False) -> Engine:
    """The SQLAlchemy engine for a SQLAlchemy ``url``, the same in every process.
    ``pre_ping``: a pooled connection is tested before use (the server's reads, which come
    seldom and must not fail on a connection that a restarted database closed; the writer
    tries a failed batch again instead)."""
    engine = create_engine(
        url, future=True, connect_args=engine_options(url), pool_pre_ping=pre_ping
    )
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def shared_across_processes(url: str) -> bool:
    """Whether another process opening ``url`` sees the same database (not SQLite in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return True
    return bool(parsed.database) and parsed.database != ":memory:" and "mode=memory" not in url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


# --- writing in this process ----------------------------------------------------------------


class LocalCommitter:
    """Writes in the calling thread, with ``engine``; under ``fence``, only while the
    partition is this node's (``lease.py``); the reports' days in ``tz``, the server's.
    ``hold``: one connection kept from batch to batch (the child process, one thread),
    rather than taken from the pool and given back each time (8 % of its CPU); dropped
    after any failure, so the next batch opens a new one. ``pipeline``: on PostgreSQL, a
    batch's writes are sent without waiting for each answer (``apply``); ``engine`` is then
    this committer's own, and never asks an insert for its generated key (``RETURNING``,
    whose rows SQLAlchemy would read before the pipeline has them)."""

    def __init__(
        self,
        engine: Engine,
        fence: Fence | None = None,
        tz: tzinfo = UTC,
        *,
        hold: bool = False,
        pipeline: bool = False,
    ) -> None:
        self.engine = engine
        self.pipeline = pipeline and engine.dialect.name == "postgresql"
        if self.pipeline:
            engine.dialect.insert_returning = False
        self.fence = fence
        self.tz = tz
        self.hold = hold
        self._held: Connection | None = None

    def commit(self, batch: list[Record], mark: Mark) -> None:
        conn: Connection | None = None
        try:
            conn = self._held or self.engine.connect()
            if self.hold:
                self._held = conn
            with conn.begin():
                apply(conn, batch, self.tz, mark, self.fence, pipeline=self.pipeline)
        except Fenced:
            raise
        except Exception as err:
            self.close()  # a connection that failed is not used again
            if _is_outage(err):
                raise Outage(why(err)) from err
            raise Refused(f"{why(err)}\n{traceback.format_exc()}") from err
        finally:
            if conn is not None and conn is not self._held:
                conn.close()

    def close(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            with contextlib.suppress(Exception):
                held.close()


def apply(
    conn: Connection,
    batch: Iterable[Record],
    tz: tzinfo = UTC,
    mark: Mark = None,
    fence: Fence | None = None,
    *,
    pipeline: bool = False,
) -> None:
    """Write ``batch`` in order on ``conn``: one row per call and per agent (the last record of
    each), the rest as they come; what they add to the reports' rollup (``rollup.py``, its
    days in ``tz``); and ``mark``. Under ``fence`` (a node of a cluster), calls are recorded as
    its partition's, and the fence is checked last (``lease.check``), before the commit.

    ``pipeline`` (PostgreSQL): the batch goes in psycopg's pipeline mode, each statement
    sent without waiting for the one before: the rollup's reads together, then the writes
    and the fence's check, whose answer waits for them all. So a batch costs four or five
    round trips to the database (the transaction's start, the reads if the batch ends calls,
    the writes with the check, the pipeline's end and the commit), not one a statement."""
    partition = DEFAULT_PARTITION if fence is None else fence.partition
    batch = list(batch)
    queues: set[int] = set()
    uids: set[str] = set()
    for r in batch:
        if isinstance(r, CallRecord) and not r.live:
            uids.add(str(r.call["uniqueid"]))
            if r.queue_id is not None:
                queues.add(r.queue_id)
        elif isinstance(r, StatusRecord) and r.wrapped is not None:
            uids.add(r.wrapped[0])
    roll = rollup.Rollup(tz)
    with _pipelined(conn) if pipeline else contextlib.nullcontext():
        roll.load(conn, queues, uids, pipeline=pipeline)
        _write(conn, batch, roll, partition)
        roll.add(conn)
        if mark is not None:
            upsert(conn, t.settings, [{"key": mark[0], "value": mark[1]}], ["key"])
        if fence is not None:
            check(conn, fence)
    roll.recount(conn)


def _pipelined(conn: Connection) -> contextlib.AbstractContextManager[Any]:
    """psycopg's pipeline mode on ``conn``'s connection, for writes only: SQLAlchemy reads a
    statement's rows (and a generated key) as soon as it has run it, and in pipeline mode
    they come later, at a sync."""
    return conn.connection.driver_connection.pipeline()  # type: ignore[union-attr,no-any-return]


def _after_calls(item: Record) -> bool:
    """Whether ``item`` must be written after the call records before it: a wrap-up's
    seconds go to its call's row (and the rollup's sums of it), and a row of another table
    is kept in order. Other records touch no call row: the calls of a batch between them
    are written together, one statement for the final ones and one for the live ones
    (writing them at each other record cost a statement or two a record)."""
    if isinstance(item, StatusRecord):
        return item.wrapped is not None
    return isinstance(item, RowUpserted | RowDeleted)


def _write(conn: Connection, batch: list[Record], roll: rollup.Rollup, partition: str) -> None:
    calls: dict[str, CallRecord] = {}
    agents: dict[AgentId, AgentRecord] = {}
    for item in batch:
        if isinstance(item, CallRecord):
            uid = str(item.call["uniqueid"])
            earlier = calls.get(uid)
            if earlier is None or earlier.live or not item.live:  # the final record stays
                calls[uid] = item
            continue
        if calls and _after_calls(item):
            _write_calls(conn, calls.values(), roll, partition)
            calls = {}
        if isinstance(item, AgentRecord):
            agents[item.agent] = item
        elif isinstance(item, StatusRecord):
            conn.execute(
                insert(t.status_log).values(
                    agent_id=item.agent,
                    status=item.status.value,
                    reason=item.reason,
                    at=item.at,
                    by_agent=item.by,
                    prev_status=item.previous[0].value if item.previous else None,
                    prev_reason=item.previous[1] if item.previous else None,
                    prev_since=item.previous[2] if item.previous else None,
                )
            )
            if item.previous is not None:
                status, reason, since = item.previous
                roll.span(item.agent, status.value, reason, since, item.at)
            if item.wrapped is not None:
                uid, seconds = item.wrapped
                roll.wrapped(uid, seconds)
                conn.execute(t.cdr.update().where(t.cdr.c.uniqueid == uid).values(acw=seconds))
        elif isinstance(item, SessionRecord):
            if item.phase is None:
                conn.execute(delete(t.sessions).where(t.sessions.c.agent_id == item.agent))
            else:
                row = {
                    "agent_id": item.agent,
                    "phase": item.phase.value,
                    "identifier": item.identifier,
                    "line": item.line,
                    "last_identifier": item.last_identifier,
                    "ringing_sound": item.ringing_sound,
                    "theme": item.theme,
                }
                upsert(conn, t.sessions, [row], ["agent_id"])
        elif isinstance(item, TokenIssued):
            conn.execute(insert(t.tokens).values(token=item.digest, agent_id=item.agent))
            if item.dropped:
                conn.execute(delete(t.tokens).where(t.tokens.c.token.in_(item.dropped)))
        elif isinstance(item, TokensRevoked):
            conn.execute(delete(t.tokens).where(t.tokens.c.agent_id == item.agent))
        elif isinstance(item, RowUpserted):
            upsert(conn, t.metadata.tables[item.table], [item.row], list(item.keys))
        elif isinstance(item, RowDeleted):
            table = t.metadata.tables[item.table]
            conn.execute(delete(table).where(table.c[item.column] == item.value))
        elif isinstance(item, OutboxEvents):
            outbox.write(conn, item.rows)
    _write_calls(conn, calls.values(), roll, partition)
    states = [{"agent_id": r.agent, "state": dict(r.state)} for r in agents.values()]
    upsert(conn, t.agent_state, states, ["agent_id"])


def _write_calls(
    conn: Connection, records: Iterable[CallRecord], roll: rollup.Rollup, partition: str
) -> None:
    """One row per call (``records`` has one record per call), the final ones and the live
    ones each written by one statement; the final ones summed in ``roll``."""
    rows: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    missed: list[dict[str, Any]] = []
    for r in records:
        uid = str(r.call["uniqueid"])
        if not r.live:
            missed += [
                {"uniqueid": uid, "agent_id": a, "queue_id": r.queue_id, "at": at}
                for a, at in r.missed
            ]
        rows[r.live].append(
            {
                **report_columns(r),
                "uniqueid": uid,
                "seq": arrival_seq(uid),
                "queue_id": r.queue_id,
                "created": float(r.call["created"]),
                "live": r.live,
                "call": dict(r.call),
                "account_codes": [a.wire() for a in r.account_codes],
                "agents": t.agents_cell(r.agents),
                "partition": partition,
            }
        )
    if rows[False]:
        offers: dict[str, list[tuple[int, float]]] = {}
        for m in missed:
            offers.setdefault(m["uniqueid"], []).append((m["agent_id"], m["at"]))
        roll.final(rows[False], offers)
    upsert(conn, t.cdr, rows[False], ["uniqueid"])
    if missed:  # written once, with the final record (a replay writes them again: no doubles)
        uids = sorted({m["uniqueid"] for m in missed})
        conn.execute(delete(t.missed_offers).where(t.missed_offers.c.uniqueid.in_(uids)))
        conn.execute(insert(t.missed_offers), missed)
    # A live record never overwrites the final one of the same call.
    upsert(conn, t.cdr, rows[True], ["uniqueid"], only_if=_STILL_LIVE)


def report_columns(r: CallRecord) -> dict[str, Any]:
    """The columns of ``cdr`` the reports read (``storage/reports.py``), from a record."""
    call = r.call
    agent = r.handled_by
    if agent is None:
        for key in ("caller_user_id", "connected_user_id"):
            if call.get(key) is not None:
                agent = int(call[key])
                break
    created = float(call["created"])
    return {
        "waited_from": r.enqueued if r.enqueued is not None else created,
        "answered": call.get("connected"),
        "ended": call.get("disconnected"),
        "cause": call.get("cause"),
        "agent_id": agent,
        "handled_by": r.handled_by,
    }


_STILL_LIVE = t.cdr.c.live.is_(True)
# --- writing in a child process -------------------------------------------------------------


_CHILD = (
    "import sys; from ucs.storage.committer import serve; serve(int(sys.argv[1]), *sys.argv[2:])"
)
_START_TIMEOUT = 30.0
"""Seconds a new child may take to import and open its engine."""


class ProcessCommitter:
    """Hands each batch to a child process and waits (off the event loop: the writer's thread)
    for its answer. A child that died is an outage for that batch (it goes to the journal, or
    is tried again), and the next batch starts a new child."""

    def __init__(
        self,
        url: str,
        fence: Fence | None = None,
        tz: tzinfo = UTC,
        fallback: Committer | None = None,
    ) -> None:
        """``fallback``: what writes the batches while a child started by ``start`` is not
        ready yet (the writer's own thread, as before a server starts its writer), so that a
        server serving meanwhile holds no more uncommitted than ever."""
        self.url = url
        self.fence = fence
        self.tz = tz
        self.fallback = fallback
        self._told: Fence | None = None
        """The fence the child writes under (from its arguments, or told since)."""
        self._child: subprocess.Popen[bytes] | None = None
        self._pipe: Pipe | None = None
        self._ready = False
        """The child said it was ready (its imports done, its engine open)."""

    @property
    def pid(self) -> int | None:
        """The child's process id; None while there is none (not started, or ended)."""
        return self._child.pid if self._child is not None else None

    @property
    def ready(self) -> bool:
        """Whether the child has said it is ready to write (it is waited for at its first
        batch, not at ``start``)."""
        return self._ready

    def start(self) -> None:
        """Start the child now, without waiting for it: its imports (a second or more of CPU)
        go on beside the server's start (a take-over's restore) instead of before its first
        records, which wait for it in the writer's thread (``ready``). A child that cannot
        start is started again at the first batch."""
        try:
            self._spawn()
        except OSError as err:
            code = self._end()
            log.error("the writer process did not start (exit code %s): %s", code, err)

    @property
    def starting(self) -> bool:
        """A child is under way and has not said anything yet (ready, or died: its pipe
        then reads as closed): the ``fallback`` writes meanwhile."""
        pipe = self._pipe
        return not self._ready and pipe is not None and not pipe.poll(0)

    def _ready_pipe(self) -> Pipe:
        """The child's pipe, once it is ready to write (a new child if there is none)."""
        if self._pipe is None:
            self._spawn()
        pipe = self._pipe
        assert pipe is not None
        if not self._ready:
            if not pipe.poll(_START_TIMEOUT) or pipe.recv() != ("ready",):
                raise EOFError("the writer process did not say it was ready")
            self._ready = True
        return pipe

    def _spawn(self) -> None:
        """A new child, which says when it is ready (``_ready_pipe``)."""
        self._ready = False
        ours, theirs = socket.socketpair()
        with ours, theirs:
            self._child = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _CHILD,
                    str(theirs.fileno()),
                    self.url,
                    rollup.tz_text(self.tz),
                    *self._fenced(),
                ],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
            )
            self._pipe = Pipe(os.dup(ours.fileno()))
            self._told = self.fence

    def _fenced(self) -> list[str]:
        fence = self.fence
        return [] if fence is None else [fence.partition, str(fence.epoch)]

    def commit(self, batch: list[Record], mark: Mark) -> None:
        if self.starting and self.fallback is not None:
            self.fallback.commit(batch, mark)
            return
        try:
            pipe = self._ready_pipe()
            fence = self.fence
            if fence is not None and fence != self._told:  # started before the lease was taken
                pipe.send(("fence", fence.partition, fence.epoch))
                self._told = fence
            pipe.send((batch, mark))
            answer = pipe.recv()
        except (OSError, EOFError) as err:
            code = self._end()
            raise Outage(f"the writer process ended (exit code {code})") from err
        match answer:
            case ("ok",):
                return
            case ("outage", reason):
                raise Outage(reason)
            case ("fenced", reason):
                raise Fenced(reason)
            case (_, reason):
                raise Refused(reason)

    def _end(self) -> int | None:
        pipe, child = self._pipe, self._child
        self._pipe = self._child = None
        self._ready = False
        if pipe is not None:
            pipe.close()
        if child is None:
            return None
        try:
            return child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            return child.wait()

    def close(self) -> None:
        self._end()


def serve(fd: int, url: str, tz: str = "", partition: str = "", epoch: str = "") -> None:
    """The child: write each batch it is given and answer how it went, until the pipe closes.
    ``tz``: the server's time zone (``rollup.tz_text``); ``partition`` and ``epoch``: the
    fence of a node of a cluster."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    pipe = Pipe(fd)
    fence = Fence(partition, int(epoch)) if partition else None
    zone = rollup.tz_from_text(tz) if tz else UTC
    committer = LocalCommitter(make_engine(url), fence, zone, hold=True, pipeline=True)
    tap = os.environ.get("UCS_COMMITTER_TAP")  # bench/committer.py: each batch kept to replay
    try:
        pipe.send(("ready",))
    except OSError:  # the parent stopped while this process was still starting
        return
    while True:
        try:
            message = pipe.recv()
        except (EOFError, OSError):
            return
        if message[0] == "fence":  # started before its node took the partition: now it has
            committer.fence = Fence(message[1], int(message[2]))
            continue
        batch, mark = message
        if tap:
            with open(tap, "ab") as kept:
                pickle.dump((batch, mark), kept)
        answer: tuple[str, ...]
        try:
            committer.commit(batch, mark)
            answer = ("ok",)
        except Outage as err:
            answer = ("outage", str(err))
        except Fenced as err:
            answer = ("fenced", str(err))
        except Refused as err:
            answer = ("refused", str(err))
        try:
            pipe.send(answer)
        except OSError:  # the parent is gone (killed): so is the wait for this answer
            return
