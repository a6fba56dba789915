"""The store's writer: one thread that commits the core's records in small batches.

The event loop hands records over (``deliver``) and never waits for the disk; the thread takes
whatever has queued up (up to 500 at once), keeps only the last record of each call and agent,
and has it written in one transaction with one prepared statement per table and shape
(``committer.py``: by a child process of its own in a server). A killed server loses at most
the last few milliseconds (records no new call waits for gather for up to ``GATHER``).

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
from collections.abc import Callable, Iterable
from datetime import UTC, tzinfo
from enum import Enum
from typing import Any

from sqlalchemy import Engine, select

from ucs.core.effects import Keep
from ucs.storage import outbox
from ucs.storage import schema as t
from ucs.storage.committer import (
    Committer,
    LocalCommitter,
    Mark,
    Outage,
    ProcessCommitter,
    Refused,
    upsert,
)
from ucs.storage.journal import (
    Journal,
    Record,
    RowDeleted,
    RowUpserted,
    TokenIssued,
    TokensRevoked,
    replayed_key,
)
from ucs.storage.lease import Fence, Fenced

__all__ = [
    "Health",
    "Outage",
    "RowDeleted",
    "RowUpserted",
    "TokenIssued",
    "TokensRevoked",
    "Writer",
    "upsert",
]

log = logging.getLogger("ucs.store")

GATHER = 0.01
"""Seconds records that no new call waits for may gather before they are written: fewer,
larger transactions (each costs the database about as much as its records do); a new call's
record is written at once, with whatever gathered before it."""

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


class Writer:
    """Writes records in order, from a thread of its own once ``start`` is called (before,
    ``flush`` writes what is queued on the caller's thread)."""

    def __init__(
        self,
        engine: Engine,
        journal: Journal,
        *,
        retry: float = 1.0,
        process: str = "",
        tz: tzinfo = UTC,
    ) -> None:
        self.engine = engine
        self.tz = tz
        """The server's time zone: the reports' rollup sums agents' time per local day."""
        self.local = LocalCommitter(engine, tz=tz)
        """Writes on the caller's thread: before ``start`` (``recover``, ``flush``)."""
        self.process = process
        """The database's URL for a child process that writes once ``start`` is called
        (``committer.py``); empty: the thread writes itself."""
        self.committer: Committer = self.local
        """What writes the batches now: ``local``, or a ``ProcessCommitter`` once started."""
        self.journal = journal
        self.retry = retry
        """Seconds between tries of a database that failed."""
        self._queue: queue.Queue[Record | list[Record] | None] = queue.Queue()
        self._held: deque[_Numbered] = deque()
        """Records taken from the queue that are in neither the database nor the journal."""
        self._thread: threading.Thread | None = None
        self._next_try = 0.0
        self.outbox = outbox.OutboxPolicy()
        """Whether (and how) the records' events for the CRM are added to the outbox: in the
        transaction of the records they tell of (``_batch``)."""
        self.errors = 0
        """Records the database refused for themselves (each logged): never written."""
        self.health = Health.OK
        self.reason = ""
        """Why the health is what it is (the last error), for people."""
        self.since = time.time()
        """When the health last changed (Unix time)."""
        self.fence: Fence | None = None
        """A node of a cluster's: its writes are refused once its partition has a newer
        owner (``lease.py``)."""
        self.on_kept: Callable[[list[Keep]], None] = lambda asked: None
        """Told, from the writer's thread, of the ``Keep`` asks whose records before them are
        now committed or in the journal (the server hands them to the core as ``Kept``)."""
        self._asked: list[Keep] = []
        """``Keep`` asks taken from the queue whose records are not kept yet."""
        self._early: ProcessCommitter | None = None
        """The child started by ``prestart``, until ``start``."""
        self.on_fenced: Callable[[str], None] = lambda why: None
        """Told why, when the database refused a batch for a newer owner (the records are
        dropped: they belong to a partition this node no longer runs)."""

    def fence_with(self, fence: Fence) -> None:
        """From now on, write only as the owner of ``fence``'s partition under its epoch."""
        self.fence = fence
        self.local = self.committer = LocalCommitter(self.engine, fence, self.tz)

    def prestart(self) -> None:
        """Start the child process now, before ``start`` (a node of a cluster, before it
        waits for a partition: a standby's child has long been ready when it takes over, and
        takes its fence with its first batch)."""
        if self.process and self._early is None and self._thread is None:
            self._early = ProcessCommitter(self.process, None, self.tz)
            self._early.start()

    @property
    def backlog(self) -> int:
        """Records accepted and not yet in the database (journal and memory)."""
        return self.journal.pending + len(self._held)

    def start(self) -> None:
        if self._thread is None:
            if self.process:
                child, self._early = self._early, None
                if child is None:
                    child = ProcessCommitter(self.process, self.fence, self.tz)
                    child.start()
                child.fence, child.fallback = self.fence, self.local
                self.committer = child
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
            self._hold(self._take_all())
            self._progress()
            self._tell_kept()
        else:
            self._queue.join()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None
            self.committer.close()
            self.committer = self.local
        else:
            self.flush()
            if self._early is not None:  # never started: a standby that stops
                self._early.close()
                self._early = None
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
            self._hold(items)
            try:
                self._progress()
                self._tell_kept()
            except Exception:  # a bug here must not stop the writer: records would pile up
                log.exception("the writer failed; it goes on")
            for _ in range(taken):
                self._queue.task_done()
            if stopping:
                return

    def _hold(self, items: list[Any]) -> None:
        """Take the records to write, in order, and the ``Keep`` asks among them aside."""
        held, asked = self._held, self._asked
        for item in items:
            if isinstance(item, Keep):
                asked.append(item)
            else:
                held.append((None, item))

    def _tell_kept(self) -> None:
        """Once every record taken so far is committed or in the journal (none waits in
        memory, none was dropped by a fence), the ``Keep`` asks taken with them are answered."""
        if not self._asked or self._held or self.health is Health.FAILING:
            return
        asked, self._asked = self._asked, []
        try:
            self.on_kept(asked)
        except Exception:  # the server's side of it; the records are kept all the same
            log.exception("telling the core of kept records failed")

    def _take(self) -> tuple[list[Record], int, bool]:
        """What has queued up (waiting for it, or until the next try of a failed database)
        up to about 500 records, how many queue entries that was, and whether ``stop`` was
        asked. Records no call waits for (no ``Keep`` among them) gather for up to
        ``GATHER`` seconds first, so that a transaction carries more of them."""
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
        until = time.monotonic() + GATHER
        urgent = self.health is not Health.OK
        while True:
            taken += 1
            if entry is None:
                return items, taken, True
            if isinstance(entry, list):
                items.extend(entry)
                urgent = urgent or any(isinstance(item, Keep) for item in entry)
            else:
                items.append(entry)
                urgent = urgent or isinstance(entry, Keep)
            if len(items) >= 500:
                return items, taken, False
            try:
                entry = self._queue.get_nowait()
            except queue.Empty:
                left = until - time.monotonic()
                if urgent or left <= 0:
                    return items, taken, False
                try:
                    entry = self._queue.get(timeout=left)
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
                self._to_journal(str(err))
            elif self.health is Health.OK:
                self._set(Health.DEGRADED, str(err))
        except Fenced as err:
            log.critical("%d records not written: %s", len(self._held), err)
            self._held.clear()
            self._set(Health.FAILING, str(err))
            self.on_fenced(str(err))

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
                self.committer.commit(self._batch(item for _, item in items), self._mark(items))
                self._committed(items)
                items.clear()
                return
            except (Outage, Refused) as err:
                if attempt and isinstance(err, Outage):
                    raise
                failure = err
        log.error(
            "could not write %d records at once (%s); writing them one by one", len(items), failure
        )
        while items:
            entry = items[0]
            try:
                self.committer.commit(self._batch([entry[1]]), self._mark([entry]))
                self._committed([entry])
            except Refused as err:
                self.errors += 1
                log.error("could not write %r: %s", entry[1], err)
            items.popleft()

    def _batch(self, records: Iterable[Record]) -> list[Record]:
        """The records to commit, with the CRM's events they tell of (``outbox.py``) made here,
        where the webhook setting is known, and written in their transaction."""
        batch = list(records)
        events = outbox.rows(batch, self.outbox)
        if events:
            batch.append(outbox.OutboxEvents(events))
        return batch

    def _mark(self, items: Iterable[_Numbered]) -> Mark:
        """The settings row that says, in the transaction of ``items``, how far the journal
        is in the database (none when no item came from the journal)."""
        last = max((n for n, _ in items if n is not None), default=None)
        return None if last is None else (replayed_key, f"{self.journal.id} {last}")

    def _committed(self, items: Iterable[_Numbered]) -> None:
        """Once their transaction has committed: the journal counts ``items`` as written."""
        last = max((n for n, _ in items if n is not None), default=None)
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
