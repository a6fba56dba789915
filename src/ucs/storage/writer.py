"""The store's writer: one thread that commits the core's records in small batches.

The event loop hands records over (``deliver``) and never waits for the disk; the thread takes
whatever has queued up (up to 500 at once), keeps only the last record of each call and agent,
and writes the batch in one transaction with one prepared statement per table and shape. A
killed server loses at most the last few milliseconds.

Nothing is dropped when the database fails (a lost connection, a stopped server, a full disk):
the batch goes to the journal (``journal.py``: a local file, fsynced) and so does everything
after it, in order, until the database answers again (tried every ``retry`` seconds); then the
journal is written to it, in order, and removed. Should the journal fail too, records wait in
memory and the store refuses new work (``Health.FAILING``). Each change of health is logged
once. A record the database refuses for itself (not an outage) is logged and counted in
``errors``, so that one bad record never costs the others.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Iterable
from enum import Enum
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from ucs.core.effects import AgentRecord, CallRecord, SessionRecord, StatusRecord
from ucs.core.ids import AgentId, arrival_seq
from ucs.storage import outbox
from ucs.storage import schema as t
from ucs.storage.journal import (
    Journal,
    Record,
    RowDeleted,
    RowUpserted,
    TokenIssued,
    TokensRevoked,
    replayed_key,
)

__all__ = [
    "Health",
    "RowDeleted",
    "RowUpserted",
    "TokenIssued",
    "TokensRevoked",
    "Writer",
    "upsert",
]

log = logging.getLogger("ucs.store")

_Numbered = tuple[int | None, Record]
"""A record with its number in the journal (None: it was never journalled)."""


class Health(Enum):
    """How the store is doing, as ``/healthz`` and ``/metrics`` tell it."""

    OK = "ok"
    """Every record is in the database (or on its way, within milliseconds)."""
    DEGRADED = "degraded"
    """The database cannot be written: records wait in the journal, in order, and are
    written as soon as it answers again."""
    FAILING = "failing"
    """Neither the database nor the journal can be written: records wait in memory, and new
    calls and commands are refused (``STORAGE_UNAVAILABLE``) rather than lost."""


class Outage(Exception):
    """The database cannot be reached or written (as opposed to refusing one record)."""


def _is_outage(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def _why(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    text = str(getattr(cause, "orig", None) or cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0] if text else ''}"[:300]


class Writer:
    """Writes records in order, from a thread of its own once ``start`` is called (before,
    ``flush`` writes what is queued on the caller's thread)."""

    def __init__(self, engine: Engine, journal: Journal, *, retry: float = 1.0) -> None:
        self.engine = engine
        self.journal = journal
        self.retry = retry
        """Seconds between tries of a database that failed."""
        self._queue: queue.Queue[Record | list[Record] | None] = queue.Queue()
        self._held: deque[_Numbered] = deque()
        """Records taken from the queue that are in neither the database nor the journal."""
        self._thread: threading.Thread | None = None
        self._next_try = 0.0
        self.outbox = outbox.OutboxPolicy()
        """Whether (and how) the records' events for the CRM are added to the outbox."""
        self.errors = 0
        """Records the database refused for themselves (each logged): never written."""
        self.health = Health.OK
        self.reason = ""
        """Why the health is what it is (the last error), for people."""
        self.since = time.time()
        """When the health last changed (Unix time)."""

    @property
    def backlog(self) -> int:
        """Records accepted and not yet in the database (journal and memory)."""
        return self.journal.pending + len(self._held)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._write_forever, name="ucs-store", daemon=True
            )
            self._thread.start()

    def deliver(self, effect: Any) -> None:
        """Queue one record (a storage effect of the core, a token change, a row) for writing."""
        self._queue.put(effect)

    def deliver_all(self, records: list[Any]) -> None:
        """Queue a step's records at once: one hand-over to the thread, not one a record."""
        self._queue.put(records)

    def flush(self) -> None:
        """Wait until everything queued so far is written, or kept in the journal."""
        if self._thread is None:
            self._held.extend((None, item) for item in self._take_all())
            self._progress()
        else:
            self._queue.join()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None
        else:
            self.flush()
        if self._held:
            self._to_journal()
        if self._held:
            log.error(
                "%d records could not be kept: the database and the journal fail", len(self._held)
            )
        self.journal.close()

    def recover(self) -> None:
        """At start, before anything is read: write what the journal of an earlier run kept.
        Raises ``Outage`` when the database cannot take it (the server must not start then)."""
        if not self.journal.count:
            if self.journal.id:
                self.journal.clear()
            return
        with self.engine.connect() as conn:
            mark = conn.execute(
                select(t.settings.c.value).where(t.settings.c.key == replayed_key)
            ).scalar()
        journal_id, _, n = (mark or "").partition(" ")
        if journal_id == self.journal.id and n.isdigit():
            self.journal.mark(int(n))
        if self.journal.pending:
            log.warning(
                "writing %d records that the journal %s kept while the database was unavailable",
                self.journal.pending,
                self.journal.path,
            )
        self._replay()

    # --- the thread ----------------------------------------------------------------------------

    def _write_forever(self) -> None:
        while True:
            items, taken, stopping = self._take()
            self._held.extend((None, item) for item in items)
            try:
                self._progress()
            except Exception:  # a bug here must not stop the writer: records would pile up
                log.exception("the writer failed; it goes on")
            for _ in range(taken):
                self._queue.task_done()
            if stopping:
                return

    def _take(self) -> tuple[list[Record], int, bool]:
        """What has queued up (waiting for it, or until the next try of a failed database)
        up to about 500 records, how many queue entries that was, and whether ``stop`` was
        asked."""
        if self.health is Health.OK and not self._held:
            timeout = None
        else:
            timeout = max(0.01, self._next_try - time.monotonic())
        items: list[Record] = []
        taken = 0
        try:
            entry = self._queue.get(timeout=timeout)
        except queue.Empty:
            return items, taken, False
        while True:
            taken += 1
            if entry is None:
                return items, taken, True
            if isinstance(entry, list):
                items.extend(entry)
            else:
                items.append(entry)
            if len(items) >= 500:
                return items, taken, False
            try:
                entry = self._queue.get_nowait()
            except queue.Empty:
                return items, taken, False

    def _take_all(self) -> list[Record]:
        items: list[Record] = []
        while True:
            try:
                entry = self._queue.get_nowait()
            except queue.Empty:
                return items
            self._queue.task_done()
            if isinstance(entry, list):
                items.extend(entry)
            elif entry is not None:
                items.append(entry)

    def _progress(self) -> None:
        """Get the held records one step closer to the database, in order."""
        try:
            if self.journal.pending:
                if self._held:
                    self._to_journal()  # after what waits there already
                if time.monotonic() >= self._next_try:
                    self._replay()
            elif self._held:
                if self.health is not Health.OK and time.monotonic() < self._next_try:
                    self._to_journal()
                    return
                self._write(self._held)
                self._set(Health.OK)
        except Outage as err:
            self._next_try = time.monotonic() + self.retry
            if self._held:
                self._to_journal(_why(err))
            elif self.health is Health.OK:
                self._set(Health.DEGRADED, _why(err))

    def _to_journal(self, why: str = "") -> None:
        try:
            self.journal.append(item for _, item in self._held)
        except OSError as err:
            self._set(
                Health.FAILING,
                f"the database ({why or self.reason}) and the journal {self.journal.path} "
                f"({err.strerror or err}) cannot be written",
            )
            return
        self._held.clear()
        if self.health is not Health.DEGRADED:
            self._set(Health.DEGRADED, why or self.reason)

    def _replay(self) -> None:
        """Write the journal to the database in order, in chunks, then remove it; then what
        is held. Raises ``Outage`` (what is written stays written and marked)."""
        if self.journal.pending:
            started, count = time.monotonic(), self.journal.pending
            chunk: deque[_Numbered] = deque()
            for entry in self.journal.entries():
                chunk.append(entry)
                if len(chunk) == 500:
                    self._write(chunk)
            self._write(chunk)
            log.warning(
                "the journal's %d records are in the database (%.1f s)",
                count,
                time.monotonic() - started,
            )
        self.journal.clear()
        if self._held:
            self._write(self._held)
        self._set(Health.OK)

    def _write(self, items: deque[_Numbered]) -> None:
        """Write ``items`` in order in one transaction, with the mark of how far the journal
        got; on a record the database refuses, one by one. Written items are taken out of
        ``items``; an outage raises ``Outage``. A failed batch is tried once more at once
        (a pooled connection that a restarted database closed fails once; a lock passes)."""
        failure: Exception | None = None
        for attempt in range(2):
            try:
                with self.engine.begin() as conn:
                    self._apply(conn, [item for _, item in items])
                    last = self._mark(conn, items)
                self._committed(last)
                items.clear()
                return
            except Exception as err:
                if attempt and _is_outage(err):
                    raise Outage(_why(err)) from err
                failure = err
        log.error(
            "could not write %d records at once; writing them one by one",
            len(items),
            exc_info=failure,
        )
        while items:
            entry = items[0]
            try:
                with self.engine.begin() as conn:
                    self._apply(conn, [entry[1]])
                    last = self._mark(conn, [entry])
                self._committed(last)
            except Exception as err:
                if _is_outage(err):
                    raise Outage(_why(err)) from err
                self.errors += 1
                log.exception("could not write %r", entry[1])
            items.popleft()

    def _mark(self, conn: Connection, items: Iterable[_Numbered]) -> int | None:
        """Write, in the transaction of ``items``, how far the journal is in the database;
        returns that number, for ``_committed`` once the transaction is."""
        last = max((n for n, _ in items if n is not None), default=None)
        if last is not None:
            value = f"{self.journal.id} {last}"
            upsert(conn, t.settings, [{"key": replayed_key, "value": value}], ["key"])
        return last

    def _committed(self, last: int | None) -> None:
        if last is not None:
            self.journal.mark(last)

    def _set(self, health: Health, reason: str = "") -> None:
        if health is self.health:
            return
        before, since = self.health, self.since
        self.health, self.reason, self.since = health, reason, time.time()
        if health is Health.OK:
            log.warning(
                "storage ok: every record is in the database again (%s for %.0f s)",
                before.value,
                self.since - since,
            )
        elif health is Health.DEGRADED:
            log.error(
                "storage degraded: the database cannot be written (%s); records wait in the "
                "journal %s and are written when it is back",
                reason,
                self.journal.path,
            )
        else:
            log.critical(
                "storage failing: %s; records wait in memory and new calls and commands are "
                "refused (STORAGE_UNAVAILABLE)",
                reason,
            )

    def _apply(self, conn: Connection, batch: list[Record]) -> None:
        # The CRM's events go in the transaction of the records they tell of.
        outbox.write(conn, outbox.rows(batch, self.outbox))
        calls: dict[str, CallRecord] = {}
        agents: dict[AgentId, AgentRecord] = {}
        for item in batch:
            if isinstance(item, CallRecord):
                uid = str(item.call["uniqueid"])
                earlier = calls.get(uid)
                if earlier is None or earlier.live or not item.live:  # the final record stays
                    calls[uid] = item
                continue
            if calls:  # keep the order of records relative to other work
                self._write_calls(conn, calls.values())
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
                    )
                )
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
        self._write_calls(conn, calls.values())
        states = [{"agent_id": r.agent, "state": dict(r.state)} for r in agents.values()]
        upsert(conn, t.agent_state, states, ["agent_id"])

    @staticmethod
    def _write_calls(conn: Connection, records: Iterable[CallRecord]) -> None:
        """One row per call (``records`` has one record per call), the final ones and the
        live ones each written by one statement."""
        rows: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
        for r in records:
            uid = str(r.call["uniqueid"])
            rows[r.live].append(
                {
                    "uniqueid": uid,
                    "seq": arrival_seq(uid),
                    "queue_id": r.queue_id,
                    "created": float(r.call["created"]),
                    "live": r.live,
                    "call": dict(r.call),
                    "account_codes": [
                        {"accountCode": code, "subAccountCode": sub}
                        for code, sub in r.account_codes
                    ],
                }
            )
        upsert(conn, t.cdr, rows[False], ["uniqueid"])
        # A live record never overwrites the final one of the same call.
        upsert(conn, t.cdr, rows[True], ["uniqueid"], only_if=_STILL_LIVE)


_STILL_LIVE = t.cdr.c.live.is_(True)
_STATEMENTS: dict[tuple[Any, ...], Any] = {}


def upsert(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    keys: list[str],
    only_if: Any = None,
) -> None:
    """Insert each row, or update the row with the same ``keys`` (only where ``only_if``
    holds): one statement, built once per shape and reused, executed for all the rows (which
    have the same columns and different keys). ``only_if`` is a module-level condition."""
    if not rows:
        return
    columns = tuple(rows[0])
    shape = (conn.dialect.name, table.name, tuple(keys), columns, id(only_if))
    stmt = _STATEMENTS.get(shape)
    if stmt is None:
        ins = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)
        update = {c: ins.excluded[c] for c in columns if c not in keys}
        stmt = _STATEMENTS[shape] = ins.on_conflict_do_update(
            index_elements=keys, set_=update, where=only_if
        )
    conn.execute(stmt, rows)
