"""The store: configuration, call records, the status log, agents' state and sessions.

Reads happen at start-up and for the REST API; writes of the core's records go through one
writer thread that commits them in small batches, so the event loop never waits for the disk
and a killed server loses at most the last few milliseconds. SQLite (WAL) by default,
PostgreSQL by URL; the schema is Alembic's (``migrate``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ucs.core.directory import (
    AgentConfig,
    Directory,
    LineConfig,
    Membership,
    QueueConfig,
    QueueType,
    Strategy,
)
from ucs.core.effects import AgentRecord, CallRecord, Effect, SessionRecord, StatusRecord
from ucs.core.ids import AgentId, LineId, QueueId
from ucs.core.model import Cause
from ucs.storage import schema as t

__all__ = ["Store", "TokenIssued", "TokensRevoked", "database_url"]

log = logging.getLogger("ucs.store")


def database_url(url: str) -> str:
    """SQLAlchemy's URL for ``url``: ``postgresql://`` uses psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


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


def _seq(uniqueid: str) -> int:
    tail = uniqueid.rsplit(".", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class Store:
    def __init__(self, url: str) -> None:
        self.url = database_url(url)
        self.engine: Engine = create_engine(self.url, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._queue: queue.Queue[_Write | None] = queue.Queue()
        self._writer: threading.Thread | None = None
        self.errors = 0

    # --- schema ------------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the database schema up to date (Alembic ``upgrade head``)."""
        cfg = Config()
        cfg.set_main_option("script_location", str(resources.files("ucs.storage") / "migrations"))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def is_empty(self) -> bool:
        with self.engine.connect() as conn:
            counts = [
                conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (t.agents, t.lines, t.queues)
            ]
        return not any(counts)

    # --- configuration -----------------------------------------------------------------------

    def load_directory(self, region: str) -> Directory:
        with self.engine.connect() as conn:
            memberships: dict[int, list[Membership]] = {}
            for m in conn.execute(select(t.memberships)).mappings():
                memberships.setdefault(m["agent_id"], []).append(
                    Membership(QueueId(m["queue_id"]), m["priority"], m["supervisor"], m["team_id"])
                )
            own_lines: dict[int, list[LineId]] = {}
            for x in conn.execute(select(t.agent_lines)).mappings():
                own_lines.setdefault(x["agent_id"], []).append(LineId(x["line_id"]))
            agents = {}
            for row in conn.execute(select(t.agents).order_by(t.agents.c.id)).mappings():
                aid = AgentId(row["id"])
                agents[aid] = AgentConfig(
                    id=aid,
                    username=row["username"],
                    firstname=row["firstname"],
                    lastname=row["lastname"],
                    displayname=row["displayname"],
                    email=row["email"],
                    external_id=row["external_id"],
                    group_id=row["group_id"],
                    locale=row["locale"],
                    number=row["number"],
                    superuser=row["superuser"],
                    primary_extension=row["primary_extension"],
                    data=dict(row["data"] or {}),
                    memberships=tuple(memberships.get(aid, ())),
                    lines=tuple(own_lines.get(aid, ())),
                )
            lines = {
                LineId(r["id"]): LineConfig(
                    LineId(r["id"]), r["identifier"], r["extension"], r["name"]
                )
                for r in conn.execute(select(t.lines)).mappings()
            }
            queues = {
                QueueId(r["id"]): QueueConfig(
                    QueueId(r["id"]),
                    r["name"],
                    QueueType(r["type"]),
                    Strategy(r["strategy"]),
                    r["ring_timeout"],
                    r["wrapup"],
                    r["weight"],
                    r["number"],
                )
                for r in conn.execute(select(t.queues)).mappings()
            }
            reasons = tuple(
                r[0]
                for r in conn.execute(
                    select(t.aux_reasons.c.name).order_by(t.aux_reasons.c.position)
                )
            )
        return Directory(agents, lines, queues, reasons, region)

    def password_hashes(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.agents.c.username, t.agents.c.password_hash))
            return {r[0]: r[1] for r in rows}

    def seed(
        self,
        directory: Directory,
        password_hashes: Mapping[str, str],
        line_secrets: Mapping[str, str],
    ) -> None:
        """Fill an empty database with ``directory`` (the demo data)."""
        with self.engine.begin() as conn:
            for q in directory.queues.values():
                conn.execute(insert(t.queues).values(_queue_row(q)))
            for ln in directory.lines.values():
                conn.execute(
                    insert(t.lines).values(
                        id=ln.id,
                        identifier=ln.identifier,
                        extension=ln.extension,
                        name=ln.name,
                        secret=line_secrets.get(ln.identifier, ""),
                    )
                )
            for a in directory.agents.values():
                conn.execute(
                    insert(t.agents).values(
                        **_agent_row(a), password_hash=password_hashes[a.username]
                    )
                )
                _write_memberships(conn, a.id, a.memberships)
                _write_agent_lines(conn, a.id, a.lines)
            for i, reason in enumerate(directory.aux_reasons):
                conn.execute(insert(t.aux_reasons).values(name=reason, position=i))
            if conn.dialect.name == "postgresql":
                # Explicit ids leave PostgreSQL's counters behind: move them past the seed.
                for table in (t.agents, t.lines, t.queues):
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
                        )
                    )

    def setting(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.settings.c.value).where(t.settings.c.key == key)).first()
            return row[0] if row else None

    def set_setting(self, key: str, value: str) -> None:
        with self.engine.begin() as conn:
            _upsert(conn, t.settings, [{"key": key, "value": value}], ["key"])

    # --- administration (REST API, CLI) ------------------------------------------------------

    def rows(self, table: Table, **where: Any) -> list[dict[str, Any]]:
        query = select(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query.order_by(*table.primary_key)).mappings()]

    def insert(self, table: Table, values: Mapping[str, Any]) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(insert(table).values(**values))
            key = result.inserted_primary_key
            return int(key[0]) if key and key[0] is not None else 0

    def update(self, table: Table, key: int, values: Mapping[str, Any]) -> bool:
        if not values:
            return bool(self.rows(table, **{table.primary_key.columns.keys()[0]: key}))
        pk = next(iter(table.primary_key.columns))
        with self.engine.begin() as conn:
            return conn.execute(table.update().where(pk == key).values(**values)).rowcount > 0

    def delete(self, table: Table, key: int) -> bool:
        pk = next(iter(table.primary_key.columns))
        with self.engine.begin() as conn:
            return conn.execute(delete(table).where(pk == key)).rowcount > 0

    def save_agent(
        self,
        agent_id: int | None,
        values: Mapping[str, Any],
        memberships: Iterable[Any] | None,
        lines: Iterable[int] | None,
    ) -> int | None:
        """Insert (``agent_id`` None) or update an agent with its memberships and phones, in one
        transaction; ``None`` memberships or lines are left as they are. Returns the agent's id,
        or None when there is no agent ``agent_id``."""
        with self.engine.begin() as conn:
            if agent_id is None:
                result = conn.execute(insert(t.agents).values(**values))
                agent_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            elif values:
                changed = conn.execute(
                    t.agents.update().where(t.agents.c.id == agent_id).values(**values)
                )
                if not changed.rowcount:
                    return None
            elif (
                conn.execute(select(t.agents.c.id).where(t.agents.c.id == agent_id)).first() is None
            ):
                return None
            if memberships is not None:
                _write_memberships(conn, agent_id, memberships)
            if lines is not None:
                _write_agent_lines(conn, agent_id, lines)
            return agent_id

    def set_membership(self, values: Mapping[str, Any]) -> None:
        with self.engine.begin() as conn:
            _upsert(conn, t.memberships, [dict(values)], ["agent_id", "queue_id"])

    def remove_membership(self, queue_id: int, agent_id: int) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(t.memberships).where(
                    t.memberships.c.queue_id == queue_id, t.memberships.c.agent_id == agent_id
                )
            )
            return result.rowcount > 0

    def set_aux_reasons(self, reasons: Iterable[str]) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(t.aux_reasons))
            for i, reason in enumerate(reasons):
                conn.execute(insert(t.aux_reasons).values(name=reason, position=i))

    # --- what a restart needs ----------------------------------------------------------------

    def agent_states(self) -> dict[AgentId, dict[str, Any]]:
        with self.engine.connect() as conn:
            return {
                AgentId(r["agent_id"]): dict(r["state"])
                for r in conn.execute(select(t.agent_state)).mappings()
            }

    def sessions(self) -> dict[AgentId, dict[str, Any]]:
        with self.engine.connect() as conn:
            return {
                AgentId(r["agent_id"]): dict(r) for r in conn.execute(select(t.sessions)).mappings()
            }

    def tokens(self) -> dict[str, AgentId]:
        """The agent of each stored session token, by the token's digest."""
        with self.engine.connect() as conn:
            return {r[0]: AgentId(r[1]) for r in conn.execute(select(t.tokens))}

    def max_seq(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(t.cdr.c.seq))).scalar() or 0)

    def end_live_calls(self, now: float) -> int:
        """Calls that were live when the server stopped end now with cause 0 (unknown)."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(t.cdr).where(t.cdr.c.live.is_(True))).mappings().all()
            for r in rows:
                call = dict(r["call"])
                call.update(cause=int(Cause.UNKNOWN), disconnected=now, now=now)
                conn.execute(
                    t.cdr.update()
                    .where(t.cdr.c.uniqueid == r["uniqueid"])
                    .values(live=False, call=call)
                )
        return len(rows)

    # --- call records ------------------------------------------------------------------------

    def cdr(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        queue_id: int | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        query = select(t.cdr).where(t.cdr.c.live.is_(False))
        if since is not None:
            query = query.where(t.cdr.c.created >= since)
        if until is not None:
            query = query.where(t.cdr.c.created < until)
        if queue_id is not None:
            query = query.where(t.cdr.c.queue_id == queue_id)
        query = query.order_by(t.cdr.c.created, t.cdr.c.seq).limit(limit).offset(offset)
        with self.engine.connect() as conn:
            return [
                {**dict(r["call"]), "account_codes": list(r["account_codes"] or [])}
                for r in conn.execute(query).mappings()
            ]

    def abandoned_since(self, since: float) -> dict[int, int]:
        """Per queue: callers who hung up before anyone answered, since ``since``."""
        query = select(t.cdr.c.queue_id, t.cdr.c.call).where(
            t.cdr.c.live.is_(False), t.cdr.c.queue_id.is_not(None), t.cdr.c.created >= since
        )
        counts: dict[int, int] = {}
        with self.engine.connect() as conn:
            for queue_id, call in conn.execute(query):
                if call.get("connected") is None and call.get("cause") == int(Cause.CALLER_HANGUP):
                    counts[queue_id] = counts.get(queue_id, 0) + 1
        return counts

    # --- the writer --------------------------------------------------------------------------

    def start(self) -> None:
        if self._writer is None:
            self._writer = threading.Thread(
                target=self._write_forever, name="ucs-store", daemon=True
            )
            self._writer.start()

    def deliver(self, effect: Any) -> None:
        """Queue one record (a storage effect of the core, or a token change) for writing."""
        self._queue.put(effect)

    def run(self, work: Callable[[Connection], None]) -> None:
        """Queue a piece of work for the writer, in order with the records."""
        self._queue.put(work)

    def flush(self) -> None:
        """Wait until everything queued so far is written."""
        if self._writer is None:
            self._drain()
        else:
            self._queue.join()

    def stop(self) -> None:
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join(timeout=10)
            self._writer = None
        self.engine.dispose()

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
                    _upsert(conn, t.sessions, [row], ["agent_id"])
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
        _upsert(conn, t.agent_state, states, ["agent_id"])

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
                    "seq": _seq(uid),
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
        _upsert(conn, t.cdr, rows[False], ["uniqueid"])
        # A live record never overwrites the final one of the same call.
        _upsert(conn, t.cdr, rows[True], ["uniqueid"], only_if=_STILL_LIVE)


_STILL_LIVE = t.cdr.c.live.is_(True)
_STATEMENTS: dict[tuple[Any, ...], Any] = {}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _upsert(
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


def _queue_row(q: QueueConfig) -> dict[str, Any]:
    return {
        "id": q.id,
        "name": q.name,
        "type": int(q.type),
        "strategy": q.strategy.value,
        "ring_timeout": q.ring_timeout,
        "wrapup": q.wrapup,
        "weight": q.weight,
        "number": q.number,
    }


def _agent_row(a: AgentConfig) -> dict[str, Any]:
    return {
        "id": a.id,
        "username": a.username,
        "firstname": a.firstname,
        "lastname": a.lastname,
        "displayname": a.displayname,
        "email": a.email,
        "external_id": a.external_id,
        "group_id": a.group_id,
        "locale": a.locale,
        "number": a.number,
        "superuser": a.superuser,
        "primary_extension": a.primary_extension,
        "data": dict(a.data),
    }


def _write_memberships(conn: Connection, agent_id: int, memberships: Iterable[Any]) -> None:
    """Replace the agent's memberships (anything with queue, priority, supervisor, team_id)."""
    conn.execute(delete(t.memberships).where(t.memberships.c.agent_id == agent_id))
    for m in memberships:
        conn.execute(
            insert(t.memberships).values(
                agent_id=agent_id,
                queue_id=m.queue,
                priority=m.priority,
                supervisor=m.supervisor,
                team_id=m.team_id,
            )
        )


def _write_agent_lines(conn: Connection, agent_id: int, lines: Iterable[int]) -> None:
    """Replace the agent's own phones."""
    conn.execute(delete(t.agent_lines).where(t.agent_lines.c.agent_id == agent_id))
    for line in dict.fromkeys(lines):
        conn.execute(insert(t.agent_lines).values(agent_id=agent_id, line_id=line))
