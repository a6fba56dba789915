"""The store's writer: one thread that commits the core's records in small batches.

The event loop hands records over (``deliver``) and never waits for the disk; the thread takes
whatever has queued up (up to 500 at once), keeps only the last record of each call and agent,
and writes the batch in one transaction with one prepared statement per table and shape. A
killed server loses at most the last few milliseconds.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ucs.core.effects import AgentRecord, CallRecord, Effect, SessionRecord, StatusRecord
from ucs.core.ids import AgentId, arrival_seq
from ucs.storage import schema as t

__all__ = ["TokenIssued", "TokensRevoked", "Writer", "upsert"]

log = logging.getLogger("ucs.store")


class TokenIssued:
    """A session token was issued: ``digest`` is its SHA-256, all that is stored; ``dropped``
    are the digests of the agent's oldest tokens, no longer valid."""

    __slots__ = ("agent", "digest", "dropped")

    def __init__(self, digest: str, agent: AgentId, dropped: tuple[str, ...] = ()) -> None:
        self.digest, self.agent, self.dropped = digest, agent, dropped


class TokensRevoked:
    __slots__ = ("agent",)

    def __init__(self, agent: AgentId) -> None:
        self.agent = agent


_Write = Effect | TokenIssued | TokensRevoked | Callable[[Connection], None]


class Writer:
    """Writes records in order, from a thread of its own once ``start`` is called (before,
    ``flush`` writes what is queued on the caller's thread)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queue: queue.Queue[_Write | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.errors = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._write_forever, name="ucs-store", daemon=True
            )
            self._thread.start()

    def deliver(self, effect: Any) -> None:
        """Queue one record (a storage effect of the core, or a token change) for writing."""
        self._queue.put(effect)

    def run(self, work: Callable[[Connection], None]) -> None:
        """Queue a piece of work for the writer, in order with the records."""
        self._queue.put(work)

    def flush(self) -> None:
        """Wait until everything queued so far is written."""
        if self._thread is None:
            self._drain()
        else:
            self._queue.join()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _write_forever(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                self._queue.task_done()
                return
            batch: list[_Write] = [first]
            while len(batch) < 500:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    self._queue.task_done()
                    break
                batch.append(item)
            try:
                self._commit(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _commit(self, batch: list[_Write]) -> None:
        """Write a batch; on failure try again a few times (a lock, a lost connection), then
        record by record, so that one bad record never costs the others."""
        for attempt in range(4):
            try:
                with self.engine.begin() as conn:
                    self._apply(conn, batch)
                return
            except Exception:
                if attempt == 3:
                    break
                time.sleep(0.05 * 4**attempt)
        log.exception("could not write %d records at once; writing them one by one", len(batch))
        for item in batch:
            try:
                with self.engine.begin() as conn:
                    self._apply(conn, [item])
            except Exception:
                self.errors += 1
                log.exception("could not write %r", item)

    def _drain(self) -> None:
        batch: list[_Write] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            self._queue.task_done()
            if item is not None:
                batch.append(item)
        if batch:
            with self.engine.begin() as conn:
                self._apply(conn, batch)

    def _apply(self, conn: Connection, batch: Iterable[_Write]) -> None:
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
            elif callable(item):
                item(conn)
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
