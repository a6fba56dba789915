"""The CRM's outbox (CONTRACT §12): events for the webhook, kept in the database.

The writer adds an event for each record that tells of one, in the transaction that writes the
record (``rows`` and ``write``), so a call record is never committed without its ``call.ended``
nor the other way round, kill -9 or not, and records kept in the journal during a database
outage get their events when the journal is written. ``call.ended`` comes of a call's final
record (its id is the call's own: a record written again before the event is delivered, with
account codes set in wrap-up, updates the event, never doubles it); ``agent.status`` of each
change in the status log. Only while a webhook is set (``OutboxPolicy.enabled``).

The sender (``ucs.crm.webhook``) reads what is due with ``due``: per stream (a call, an agent)
only the first event not yet delivered, so each stream is delivered in order; and marks the
outcome (``delivered``, ``retry``, ``failed``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ucs.core.effects import CallRecord, StatusRecord
from ucs.storage import schema as t
from ucs.storage.journal import OutboxEvents

__all__ = [
    "DELIVERED",
    "FAILED",
    "PENDING",
    "Due",
    "OutboxEvents",
    "OutboxPolicy",
    "delivered",
    "due",
    "failed",
    "pending",
    "prune",
    "retry",
    "rows",
    "write",
]

PENDING, DELIVERED, FAILED = 0, 1, 2
_O = t.crm_outbox


@dataclass
class OutboxPolicy:
    """What the writer needs to make events: whether a webhook is set, the agents' usernames,
    and the server's URL (for a recording's)."""

    enabled: bool = False
    username: Callable[[int], str | None] = field(default=lambda agent: None)
    base_url: str = ""


def _event(
    event_id: str, stream: str, kind: str, at: float, data: dict[str, Any]
) -> dict[str, Any]:
    body = {"id": event_id, "type": kind, "time": at, "data": data}
    return {
        "event_id": event_id,
        "stream": stream,
        "type": kind,
        "time": at,
        "body": json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        "state": PENDING,
        "attempts": 0,
        "next_try": 0.0,
    }


def rows(batch: Iterable[Any], policy: OutboxPolicy) -> list[dict[str, Any]]:
    """The events the batch's records tell of (none while no webhook is set)."""
    if not policy.enabled:
        return []
    found: list[dict[str, Any]] = []
    for item in batch:
        if isinstance(item, CallRecord) and not item.live:
            call = dict(item.call)
            uid = str(call["uniqueid"])
            call["account_codes"] = [a.wire() for a in item.account_codes]
            if call.get("recorded"):
                call["recording_url"] = f"{policy.base_url}/api/recordings/{uid}"
            event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ucs:call.ended:{uid}"))
            at = float(call.get("disconnected") or call.get("now") or 0.0)
            found.append(_event(event_id, f"call:{uid}", "call.ended", at, call))
        elif isinstance(item, StatusRecord):
            data = {
                "user_id": int(item.agent),
                "username": policy.username(int(item.agent)),
                "status": item.status.value,
                "reason": item.reason,
            }
            stream = f"agent:{int(item.agent)}"
            found.append(_event(str(uuid.uuid4()), stream, "agent.status", item.at, data))
    return found


def write(conn: Connection, events: list[dict[str, Any]]) -> None:
    """Add the events in the caller's transaction; a call's event not yet delivered is
    brought up to date instead of doubled."""
    if not events:
        return
    ins = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(_O)
    stmt = ins.on_conflict_do_update(
        index_elements=["event_id"],
        set_={"body": ins.excluded.body, "time": ins.excluded.time},
        where=_O.c.state == PENDING,
    )
    for event in events:  # one by one: a batch may name the same call twice
        conn.execute(stmt, event)


@dataclass(frozen=True, slots=True)
class Due:
    """An event to send now."""

    seq: int
    event_id: str
    body: str
    time: float
    attempts: int


def due(conn: Connection, now: float, limit: int = 100) -> list[Due]:
    """Events due now, oldest first, each the first undelivered one of its stream."""
    earlier = _O.alias("earlier")
    query = (
        select(_O.c.seq, _O.c.event_id, _O.c.body, _O.c.time, _O.c.attempts)
        .where(_O.c.state == PENDING, _O.c.next_try <= now)
        .where(
            ~select(earlier.c.seq)
            .where(
                and_(
                    earlier.c.stream == _O.c.stream,
                    earlier.c.state == PENDING,
                    earlier.c.seq < _O.c.seq,
                )
            )
            .exists()
        )
        .order_by(_O.c.seq)
        .limit(limit)
    )
    return [Due(*r) for r in conn.execute(query)]


def delivered(conn: Connection, seqs: list[int]) -> None:
    if seqs:
        conn.execute(update(_O).where(_O.c.seq.in_(seqs)).values(state=DELIVERED))


def retry(conn: Connection, seq: int, attempts: int, next_try: float, error: str) -> None:
    conn.execute(
        update(_O)
        .where(_O.c.seq == seq)
        .values(attempts=attempts, next_try=next_try, last_error=error[:300])
    )


def failed(conn: Connection, seq: int, attempts: int, error: str) -> None:
    """Given up (24 h of tries): kept, for an administrator to see, but never sent again."""
    conn.execute(
        update(_O)
        .where(_O.c.seq == seq)
        .values(state=FAILED, attempts=attempts, last_error=error[:300])
    )


def pending(conn: Connection) -> int:
    """Events not yet delivered (counted on the pending index, whatever was delivered)."""
    return int(conn.execute(select(func.count()).where(_O.c.state == PENDING)).scalar() or 0)


def prune(conn: Connection, before: float) -> int:
    """Forget delivered events older than ``before`` (kept a while, so that a call's record
    written again after its event went out, with account codes set in wrap-up, does not send
    the event twice)."""
    result = conn.execute(delete(_O).where(_O.c.state == DELIVERED, _O.c.time < before))
    return int(result.rowcount or 0)
