"""The store: configuration, call records, the status log, agents' state and sessions.

Reads happen at start-up and for the REST API; writes of the core's records go through one
writer thread (``writer.py``) that commits them in small batches (from a child process of its
own in a server: ``committer.py``), so the event loop never waits for the disk. SQLite (WAL)
by default, PostgreSQL by URL; the schema is Alembic's (``migrate``).
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, tzinfo
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    delete,
    func,
    insert,
    make_url,
    or_,
    select,
    text,
)

from ucs.core.call import AccountCode
from ucs.core.directory import (
    AgentConfig,
    Directory,
    Disposition,
    LineConfig,
    Membership,
    QueueConfig,
    QueueType,
    Strategy,
)
from ucs.core.effects import CallRecord
from ucs.core.errors import StorageUnavailable
from ucs.core.ids import AgentId, LineId, QueueId
from ucs.core.model import Cause
from ucs.core.queueday import QueueDay, recount
from ucs.storage import outbox, rollup
from ucs.storage import schema as t
from ucs.storage.committer import ProcessCommitter, make_engine, shared_across_processes
from ucs.storage.journal import Journal, NoJournal, RowDeleted, RowUpserted
from ucs.storage.lease import Fence, check
from ucs.storage.upsert import upsert
from ucs.storage.writer import Health, TokenIssued, TokensRevoked, Writer

__all__ = [
    "Health",
    "RowDeleted",
    "RowUpserted",
    "Store",
    "TokenIssued",
    "TokensRevoked",
    "database_url",
    "journal_path",
]

log = logging.getLogger("ucs.store")

_MIGRATION_LOCK = 0x0C5_0001
"""The advisory lock PostgreSQL migrations run under: one node of a cluster at a time."""


def database_url(url: str) -> str:
    """SQLAlchemy's URL for ``url``: ``postgresql://`` uses psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def journal_path(url: str) -> str:
    """Where records wait while the database is unavailable, unless told (``UCS_JOURNAL``):
    beside an SQLite file (``ucs.db`` → ``ucs.db.ucs-journal``), else in the working directory,
    named after the database."""
    parsed = make_url(database_url(url))
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            return f"{parsed.database}.ucs-journal"
        name = f"ucs-memory-{os.getpid()}-{secrets.token_hex(4)}.ucs-journal"
        return str(Path(tempfile.gettempdir()) / name)
    return f"ucs-{parsed.database or 'db'}.ucs-journal"


class Store:
    def __init__(
        self,
        url: str,
        *,
        journal: str = "",
        retry: float = 1.0,
        process: bool = False,
        cluster: bool = False,
        tz: tzinfo = UTC,
    ) -> None:
        """``process``: once started, the writer writes from a child process of its own
        (``committer.py``), unless the database is SQLite in memory, which no other process
        sees. ``cluster``: a node of a cluster, which keeps no journal (``NoJournal``).
        ``tz``: the server's time zone, in which the reports' rollup cuts agents' days."""
        self.url = database_url(url)
        self.tz = tz
        self.engine: Engine = make_engine(self.url, pre_ping=process)
        child = self.url if process and shared_across_processes(self.url) else ""
        kept = NoJournal() if cluster else Journal(journal or journal_path(url))
        self.writer = Writer(self.engine, kept, retry=retry, process=child, tz=tz)
        self.fence: Fence | None = None
        """A node of a cluster's (``fence_with``): every write checks it is still the owner."""

    def fence_with(self, fence: Fence) -> None:
        """Write only as the owner of ``fence``'s partition under its epoch (``lease.py``)."""
        self.fence = fence
        self.writer.fence_with(fence)

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        """A writing transaction (checked against the fence first, in a cluster)."""
        with self.engine.begin() as conn:
            if self.fence is not None:
                check(conn, self.fence)
            yield conn

    # --- schema ------------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the database schema up to date (Alembic ``upgrade head``), and the reports'
        rollup (``roll_up``)."""
        from alembic import command  # here: the writer's child process never needs it
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(resources.files("ucs.storage") / "migrations"))
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # nodes of a cluster start together
                conn.execute(text("SELECT pg_advisory_xact_lock(:c)"), {"c": _MIGRATION_LOCK})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        self.roll_up()

    def roll_up(self, *, force: bool = False) -> bool:
        """Make the reports' rollup from the records when it was never made (a database of an
        earlier version), or its agents' days when the time zone changed (``rollup.fill``);
        ``force``: again from the records, whatever it holds. Writers wait meanwhile (a node
        of a cluster's too). Returns whether anything was made."""
        with self.engine.connect() as conn:
            mark = conn.execute(
                select(t.settings.c.value).where(t.settings.c.key == rollup.MARK)
            ).scalar()
        if not force and mark == rollup.tz_name(self.tz):
            return False
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:c)"), {"c": _MIGRATION_LOCK})
                conn.execute(text("LOCK TABLE cdr, missed_offers, status_log IN SHARE MODE"))
            else:  # a write first: SQLite's lock, so that no writer commits while it reads
                conn.execute(delete(t.settings).where(t.settings.c.key == "-"))
            made = rollup.fill(conn, self.tz, force=force)
        if made:
            log.info("the reports' rollup is made from the records (time zone %s)", self.tz)
        return made

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
                    partition=row["partition"],
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
                    r["rona_reason"],
                    QueueId(r["campaign"]) if r["campaign"] is not None else None,
                    r["callback_retries"],
                    callback_offer=bool(r["callback_offer"]),
                    greeting=r["greeting"],
                    music=r["music"],
                    announce_every=r["announce_every"],
                    announce_wait=bool(r["announce_wait"]),
                    language=r["language"],
                    recording=r["recording"],
                    service_level_target=r["service_level_target"],
                    partition=r["partition"],
                    dispositions=tuple(
                        Disposition(d["code"], d["label"]) for d in r["dispositions"] or ()
                    ),
                    free_text_codes=bool(r["free_text_codes"]),
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
        with self._begin() as conn:
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
        with self._begin() as conn:
            upsert(conn, t.settings, [{"key": key, "value": value}], ["key"])

    # --- administration (REST API, CLI) ------------------------------------------------------

    def rows(self, table: Table, **where: Any) -> list[dict[str, Any]]:
        query = select(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query.order_by(*table.primary_key)).mappings()]

    def insert(self, table: Table, values: Mapping[str, Any]) -> int:
        with self._begin() as conn:
            result = conn.execute(insert(table).values(**values))
            key = result.inserted_primary_key
            made = int(key[0]) if key and key[0] is not None else 0
            if table is t.queues:  # a queue id used before: its calls' target is this one's
                rollup.recount_within(conn, made)
            return made

    def update(self, table: Table, key: int, values: Mapping[str, Any]) -> bool:
        if not values:
            return bool(self.rows(table, **{table.primary_key.columns.keys()[0]: key}))
        pk = next(iter(table.primary_key.columns))
        with self._begin() as conn:
            changed = conn.execute(table.update().where(pk == key).values(**values)).rowcount > 0
            if changed and table is t.queues and "service_level_target" in values:
                rollup.recount_within(conn, key)  # the reports judge by the target as it is
            return changed

    def delete(self, table: Table, key: int) -> bool:
        pk = next(iter(table.primary_key.columns))
        with self._begin() as conn:
            gone = conn.execute(delete(table).where(pk == key)).rowcount > 0
            if gone and table is t.queues:  # its calls still count, with the default target
                rollup.recount_within(conn, key)
            return gone

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
        with self._begin() as conn:
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
        with self._begin() as conn:
            upsert(conn, t.memberships, [dict(values)], ["agent_id", "queue_id"])

    def remove_membership(self, queue_id: int, agent_id: int) -> bool:
        with self._begin() as conn:
            result = conn.execute(
                delete(t.memberships).where(
                    t.memberships.c.queue_id == queue_id, t.memberships.c.agent_id == agent_id
                )
            )
            return result.rowcount > 0

    def set_aux_reasons(self, reasons: Iterable[str]) -> None:
        with self._begin() as conn:
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
        """Calls that were live when the server stopped end now with cause 0 (unknown): a
        node of a cluster's, those of its partition (another node runs the others')."""
        query = select(t.cdr).where(t.cdr.c.live.is_(True))
        if self.fence is not None:
            query = query.where(t.cdr.c.partition == self.fence.partition)
        with self._begin() as conn:
            rows = conn.execute(query).mappings().all()
            queues = {r["queue_id"] for r in rows if r["queue_id"] is not None}
            targets = rollup.targets(conn, queues)
            roll = rollup.Rollup(self.tz)
            ended = []
            for r in rows:
                roll.call(dict(r), rollup.target_of(targets, r["queue_id"]))
                call = dict(r["call"])
                call.update(cause=int(Cause.UNKNOWN), disconnected=now, now=now)
                conn.execute(
                    t.cdr.update()
                    .where(t.cdr.c.uniqueid == r["uniqueid"])
                    .values(live=False, call=call)
                )
                codes = tuple(
                    AccountCode(c.get("accountCode", ""), c.get("subAccountCode"), c.get("label"))
                    for c in r["account_codes"] or ()
                )
                ended.append(CallRecord(call, codes, r["queue_id"]))
            # The CRM hears of them as of any call that ended, and the reports count them
            # (in the same transaction).
            outbox.write(conn, outbox.rows(ended, self.writer.outbox))
            roll.flush(conn)
        return len(rows)

    # --- call records ------------------------------------------------------------------------

    def cdr(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        queue_id: int | None = None,
        agent_id: int | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Finished calls, oldest first: created in [``since``, ``until``), of a queue, and
        with the agent on them (their caller, connected party, or one who transferred them).
        Each is its Call object with ``account_codes`` and ``agents`` (every agent's username
        who was on it, in order)."""
        query = select(t.cdr).where(t.cdr.c.live.is_(False))
        if since is not None:
            query = query.where(t.cdr.c.created >= since)
        if until is not None:
            query = query.where(t.cdr.c.created < until)
        if queue_id is not None:
            query = query.where(t.cdr.c.queue_id == queue_id)
        if agent_id is not None:
            call = t.cdr.c.call
            query = query.where(
                or_(
                    call["caller_user_id"].as_integer() == agent_id,
                    call["connected_user_id"].as_integer() == agent_id,
                    t.cdr.c.agents.contains(f" {t.agent_mark(agent_id)}", autoescape=True),
                )
            )
        query = query.order_by(t.cdr.c.created, t.cdr.c.seq).limit(limit).offset(offset)
        with self.engine.connect() as conn:
            return [
                {
                    **dict(r["call"]),
                    "account_codes": list(r["account_codes"] or []),
                    "agents": [username for _id, username in t.agents_of(r["agents"])],
                }
                for r in conn.execute(query).mappings()
            ]

    def queue_days(self, since: float) -> dict[QueueId, QueueDay]:
        """Each queue's figures from the records of the queue calls and the calls dialled under
        a campaign created since ``since`` (today's midnight) that have ended: what the core
        counts live (``core/queueday.py``)."""
        ended = (t.cdr.c.live.is_(False), t.cdr.c.created >= since)
        queued = select(t.cdr.c.queue_id, t.cdr.c.call).where(*ended, t.cdr.c.queue_id.is_not(None))
        direct = select(t.cdr.c.call).where(*ended, t.cdr.c.queue_id.is_(None))
        with self.engine.connect() as conn:
            targets = {
                QueueId(q): float(s)
                for q, s in conn.execute(select(t.queues.c.id, t.queues.c.service_level_target))
            }
            records = [(QueueId(q), call) for q, call in conn.execute(queued)]
            dialled = [
                (QueueId(call["outbound_id"]), call)
                for (call,) in conn.execute(direct)
                if call.get("outbound_id") is not None
            ]
            return recount(records, targets, dialled)

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

    # --- the writer (``writer.py``) ------------------------------------------------------------

    def recover(self) -> None:
        """Write what the journal kept while the database was unavailable (a previous run's):
        at start, before anything is read. Fails when the database still cannot take it."""
        self.writer.recover()

    def prestart(self) -> None:
        """Start the writer's child process ahead (``Writer.prestart``): a node of a cluster,
        before it waits for its partition."""
        self.writer.prestart()

    def start(self) -> None:
        self.writer.start()

    def deliver(self, effect: Any) -> None:
        """Queue one record (a storage effect of the core, a token change, a row) for writing."""
        self.writer.deliver(effect)

    def deliver_all(self, records: list[Any]) -> None:
        """Queue a step's records at once (``Engine``)."""
        self.writer.deliver_all(records)

    def flush(self) -> None:
        """Wait until everything queued so far is written (or kept in the journal)."""
        self.writer.flush()

    @property
    def errors(self) -> int:
        """Records the database refused for themselves (each logged)."""
        return self.writer.errors

    @property
    def health(self) -> Health:
        return self.writer.health

    def refusal(self) -> StorageUnavailable | None:
        """Why new calls and commands must be refused now, or None (``Engine.refusal``)."""
        if self.writer.health is not Health.FAILING:
            return None
        return StorageUnavailable(
            f"records cannot be kept ({self.writer.reason}); try again when storage is back"
        )

    def status(self) -> dict[str, Any]:
        """For ``/healthz``: the health, records not yet in the database, since when, why."""
        w = self.writer
        status: dict[str, Any] = {"status": w.health.value, "backlog": w.backlog}
        if w.health is not Health.OK:
            status.update(since=w.since, reason=w.reason, journal=str(w.journal.path))
        if isinstance(w.committer, ProcessCommitter) and w.committer.starting:
            status["writer"] = "starting"  # its thread writes until the child is ready
        return status

    def stop(self) -> None:
        self.writer.stop()
        self.engine.dispose()


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
        "rona_reason": q.rona_reason,
        "campaign": q.campaign,
        "callback_retries": q.callback_retries,
        "callback_offer": q.callback_offer,
        "greeting": q.greeting,
        "music": q.music,
        "announce_every": q.announce_every,
        "announce_wait": q.announce_wait,
        "language": q.language,
        "recording": q.recording,
        "service_level_target": q.service_level_target,
        "partition": q.partition,
        "dispositions": [{"code": d.code, "label": d.label} for d in q.dispositions],
        "free_text_codes": q.free_text_codes,
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
        "partition": a.partition,
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
