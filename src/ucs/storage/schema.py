"""The tables. Alembic's migrations (``migrations/versions``) create them; keep both in step."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

__all__ = [
    "agent_call_days",
    "agent_days",
    "agent_lines",
    "agent_mark",
    "agent_state",
    "agents",
    "agents_cell",
    "agents_of",
    "audit",
    "aux_reasons",
    "cdr",
    "crm_outbox",
    "lines",
    "memberships",
    "metadata",
    "missed_offers",
    "partition_owner",
    "queue_slots",
    "queues",
    "recordings",
    "sessions",
    "settings",
    "sip_bindings",
    "status_log",
    "tokens",
]

metadata = MetaData()

agents = Table(
    "agents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(128), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("firstname", String(128), nullable=False, default=""),
    Column("lastname", String(128), nullable=False, default=""),
    Column("displayname", String(256), nullable=False, default=""),
    Column("email", String(256), nullable=False, default=""),
    Column("external_id", String(128)),
    Column("group_id", Integer),
    Column("locale", String(16), nullable=False, default="en"),
    Column("number", String(64)),
    Column("superuser", Boolean, nullable=False, default=False),
    Column("primary_extension", Integer),
    Column("data", JSON, nullable=False, default=dict),
    Column("partition", String(32), nullable=False, server_default="main"),
    sqlite_autoincrement=True,
)

lines = Table(
    "lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("identifier", String(128), nullable=False, unique=True),
    Column("extension", String(32), nullable=False, unique=True),
    Column("name", String(128), nullable=False, default=""),
    Column("secret", String(256), nullable=False, default=""),
    sqlite_autoincrement=True,
)

agent_lines = Table(
    "agent_lines",
    metadata,
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("line_id", Integer, ForeignKey("lines.id", ondelete="CASCADE"), primary_key=True),
)

queues = Table(
    "queues",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("type", Integer, nullable=False),
    Column("strategy", String(32), nullable=False),
    Column("ring_timeout", Float, nullable=False),
    Column("wrapup", Float, nullable=False),
    Column("weight", Integer, nullable=False, default=0),
    Column("number", String(32)),
    Column("rona_reason", String(64)),  # AUX reason after an offer rang out; NULL: none
    Column("campaign", Integer),  # the outgoing queue callbacks are dialled under; NULL: none
    Column("callback_retries", Integer, nullable=False, default=1),
    Column("callback_offer", Boolean, nullable=False, default=False),  # press 1 while waiting
    Column("greeting", String(32)),  # sound played to a caller entering the queue
    Column("music", String(32)),  # sound played to waiting and held callers
    Column("announce_every", Float, nullable=False, default=0.0),
    Column("announce_wait", Boolean, nullable=False, default=False),
    Column("language", String(8), nullable=False, default="en"),
    Column("recording", String(16), nullable=False, default="never"),  # never always on_demand
    Column("service_level_target", Integer, nullable=False, default=20),  # seconds
    Column("partition", String(32), nullable=False, server_default="main"),
    # the account codes its calls may be given: [{"code", "label"}] in order; []: any code
    Column("dispositions", JSON, nullable=False, default=list),
    Column("free_text_codes", Boolean, nullable=False, default=False),  # besides the list
    sqlite_autoincrement=True,
)

memberships = Table(
    "memberships",
    metadata,
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("queue_id", Integer, ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True),
    Column("priority", Integer, nullable=False, default=1),
    Column("supervisor", Boolean, nullable=False, default=False),
    Column("team_id", Integer),
)

aux_reasons = Table(
    "aux_reasons",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

cdr = Table(
    "cdr",
    metadata,
    Column("uniqueid", String(64), primary_key=True),
    Column("seq", Integer, nullable=False, index=True),
    Column("queue_id", Integer, index=True),
    Column("created", Float, nullable=False),  # searched by cdr_report, which starts with it
    Column("live", Boolean, nullable=False),  # the live calls: ix_cdr_live, below
    Column("call", JSON, nullable=False),
    Column("account_codes", JSON, nullable=False, default=list),
    # Every agent who was on the call, " id:username " each (agents_cell): searched by
    # id with LIKE on any database; NULL for calls recorded before migration 0005.
    Column("agents", Text, nullable=True),
    # What the reports read (storage/reports.py), beside the Call object: when the caller
    # started waiting (a queue's enqueueing, else the call's creation), was answered, the end,
    # the cause; the agent whose call it was (who answered it from the queue, else the agent
    # who placed or took it), the one who answered it from a queue, and the wrap-up after it.
    Column("waited_from", Float),
    Column("answered", Float),
    Column("ended", Float),
    Column("cause", Integer),
    Column("agent_id", Integer),
    Column("handled_by", Integer),
    Column("acw", Float),  # seconds of automatic wrap-up after it; NULL: none (yet)
    # The partition whose node recorded it: a take-over ends only its own live calls.
    Column("partition", String(32), nullable=False, server_default="main"),
    # The live calls (a restart's, a take-over's), the few among the many: an index of them
    # alone, which a call's final record leaves (migration 0023).
    Index(
        "ix_cdr_live",
        "live",
        sqlite_where=text("live IS 1"),
        postgresql_where=text("live IS true"),
    ),
    # What both reports read, in one index: a month is read without touching a Call object.
    Index(
        "cdr_report",
        "created",
        "live",
        "queue_id",
        "agent_id",
        "handled_by",
        "waited_from",
        "answered",
        "ended",
        "cause",
        "acw",
    ),
)

missed_offers = Table(
    "missed_offers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uniqueid", String(64), nullable=False, index=True),
    Column("agent_id", Integer, nullable=False),
    Column("queue_id", Integer),
    Column("at", Float, nullable=False),  # when the offer ended unanswered
    Index("missed_offers_at", "at", "agent_id"),
    sqlite_autoincrement=True,
)
"""Offers of a queue call that rang an agent and ended unanswered (ring no answer, rejected):
the agents' ``missed`` in the reports. Written with the call's final record."""

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False, index=True),  # wall-clock time of the change
    Column("actor", String(160), nullable=False, index=True),  # "admin" or a superuser
    Column("method", String(8), nullable=False),
    Column("path", String(512), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", JSON, nullable=True),  # what was sent, passwords and secrets masked
    sqlite_autoincrement=True,
)

status_log = Table(
    "status_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agent_id", Integer, nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("reason", String(64)),
    Column("at", Float, nullable=False, index=True),
    Column("by_agent", Integer),  # the supervisor who set it; NULL: the agent or the server
    # The status this row ended (NULL: OFFLINE), its reason and since when: the reports sum
    # these spans (storage/reports.py) instead of pairing each row with the next.
    Column("prev_status", String(16)),
    Column("prev_reason", String(64)),
    Column("prev_since", Float),
    Index("status_log_agent_at", "agent_id", "at"),
    Index("status_log_spans", "at", "agent_id", "prev_status", "prev_reason", "prev_since"),
)

agent_state = Table(
    "agent_state",
    metadata,
    Column("agent_id", Integer, primary_key=True),
    Column("state", JSON, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("agent_id", Integer, primary_key=True),
    Column("phase", String(16), nullable=False),
    Column("identifier", String(128)),
    Column("line", Integer),
    Column("last_identifier", String(128)),
    Column("ringing_sound", String(32), nullable=False, default="default"),
    Column("theme", String(32), nullable=False, default="default"),
)

tokens = Table(
    "tokens",
    metadata,
    Column("token", String(128), primary_key=True),  # the SHA-256 of the session token
    Column("agent_id", Integer, nullable=False, index=True),
)

sip_bindings = Table(
    "sip_bindings",
    metadata,
    Column("identifier", String(64), primary_key=True),  # the phone's SIP user
    Column("host", String(255), nullable=False),
    Column("port", Integer, nullable=False),
    Column("contact", Text, nullable=False),
    Column("expires", Float, nullable=False),  # wall-clock time the registration ends
)


def agents_cell(agents: Iterable[tuple[int, str]]) -> str | None:
    """``cdr.agents`` for a call's agents: `` 1:agent1 2:agent2 `` (usernames have no spaces
    nor colons' meaning after the first), None for none."""
    marks = [agent_mark(a) + u for a, u in agents]
    return f" {' '.join(marks)} " if marks else None


def agent_mark(agent: int) -> str:
    """What ``cdr.agents`` holds for an agent, before its username (searched with LIKE)."""
    return f"{agent}:"


def agents_of(cell: str | None) -> list[tuple[int, str]]:
    """The agents a ``cdr.agents`` cell names."""
    found = []
    for mark in (cell or "").split():
        agent, _, username = mark.partition(":")
        if agent.isdigit():
            found.append((int(agent), username))
    return found


crm_outbox = Table(
    "crm_outbox",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("stream", String(80), nullable=False),  # delivered in order within: call:… agent:…
    Column("type", String(32), nullable=False),
    Column("time", Float, nullable=False),
    Column("body", Text, nullable=False),  # the JSON POSTed, exactly (the signature's input)
    Column("state", Integer, nullable=False, default=0),  # 0 pending, 1 delivered, 2 failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_try", Float, nullable=False, default=0.0),
    Column("last_error", String(300)),
    Index("crm_outbox_pending", "state", "next_try"),
    Index("crm_outbox_stream", "stream", "state", "seq"),
    sqlite_autoincrement=True,
)


recordings = Table(
    "recordings",
    metadata,
    Column("uniqueid", String(64), primary_key=True),
    Column("agent_id", Integer),  # no foreign key: a recording outlives its agent
    Column("agent", String(64)),  # the agent's username when the call was recorded
    # Every agent who was on the call (a transferred call has more), " id:username " each as
    # cdr.agents (agents_cell); NULL for recordings made before migration 0017.
    Column("agents", Text),
    Column("queue_id", Integer),
    Column("start", Float, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("bytes", Integer, nullable=False),
    Column("path", String(1024), nullable=False),  # the WAV file, in the recordings folder
    Index("recordings_start", "start"),
)


partition_owner = Table(
    "partition_owner",
    metadata,
    Column("partition", String(64), primary_key=True),
    Column("node", String(128), nullable=False),
    Column("epoch", Integer, nullable=False),  # grows at each take-over; writes carry it
    Column("backend", Integer, nullable=False),  # the owner's lease connection (pg_backend_pid)
    Column("expires", Float, nullable=False),  # the database's clock (epoch seconds)
    Column("url", String(512)),  # where clients reach the owner (``--advertise``); NULL: unsaid
    # Where the owner takes SIP requests, HOST:PORT (``--sip-advertise``); NULL: no SIP there.
    Column("sip", String(128)),
)
"""A cluster's partitions and the node that runs each (``lease.py``; PostgreSQL only)."""


# --- the rollup the reports read (``rollup.py``), written with the records it sums --------------

queue_slots = Table(
    "queue_slots",
    metadata,
    Column("queue_id", Integer, primary_key=True),
    Column("slot", Integer, primary_key=True),  # created // 900 (core/periods.py, slot_of)
    Column("offered", Integer, nullable=False),
    Column("answered", Integer, nullable=False),
    Column("abandoned", Integer, nullable=False),
    Column("abandoned_short", Integer, nullable=False),  # hung up within 5 s of waiting
    Column("within", Integer, nullable=False),  # answered within the queue's target as set now
    Column("wait", Float, nullable=False),  # seconds answered callers waited, summed
    Column("handle", Float, nullable=False),  # talk and automatic wrap-up, summed
    Column("max_wait", Float),  # NULL: no call with a wait
)
"""Per queue and 15 minutes: the sums of the ended queue calls created in them."""

agent_days = Table(
    "agent_days",
    metadata,
    Column("agent_id", Integer, primary_key=True),
    Column("day", Date, primary_key=True),  # local, in the server's time zone
    Column("status", String(16), primary_key=True),
    Column("reason", String(64), primary_key=True),  # an AUX reason; "" for none
    Column("seconds", Float, nullable=False),
)
"""Per agent and local day: the seconds of each status the status log closed in it."""

agent_call_days = Table(
    "agent_call_days",
    metadata,
    Column("agent_id", Integer, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("answered", Integer, nullable=False),  # queue calls answered (created that day)
    Column("talk", Float, nullable=False),  # answer to hang-up of the agent's calls
    Column("missed", Integer, nullable=False),  # offers that rang out unanswered that day
)
"""Per agent and local day: their calls (by creation) and missed offers (by their end)."""
