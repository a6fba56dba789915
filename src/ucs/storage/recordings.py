"""The index of recorded calls (table ``recordings``, migrations 0013 and 0017): one row per call
whose stereo WAV file is whole in the recordings folder (``ucs.media.recorder``), so the list
survives restarts; ``agents`` names every agent who was on the call (a transferred call has
more than one), ``agent`` the one whose side was recorded first. Synchronous: callers run
these in a thread."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, delete, or_, select

from ucs.storage import schema as t

__all__ = ["find", "names", "older_than", "remove", "save", "search"]

LIMIT = 10_000
"""Most rows one listing answers."""


def save(engine: Engine, row: Mapping[str, Any]) -> None:
    """Index a recording (one made again after a crash replaces its row)."""
    with engine.begin() as conn:
        conn.execute(delete(t.recordings).where(t.recordings.c.uniqueid == row["uniqueid"]))
        conn.execute(t.recordings.insert().values(**row))


def find(engine: Engine, uniqueid: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        query = select(t.recordings).where(t.recordings.c.uniqueid == uniqueid)
        row = conn.execute(query).mappings().first()
        return dict(row) if row is not None else None


def search(
    engine: Engine,
    *,
    since: float | None = None,
    until: float | None = None,
    agent: str | None = None,
    queue: int | None = None,
    queues: frozenset[int] | None = None,
) -> list[dict[str, Any]]:
    """Recordings that started in [since, until), of that agent (username) and queue, and
    (``queues``) only of those queues; oldest first."""
    r = t.recordings.c
    query = select(t.recordings)
    if since is not None:
        query = query.where(r.start >= since)
    if until is not None:
        query = query.where(r.start < until)
    if agent is not None:  # any agent of the call (LIKE narrows, ``names`` decides)
        escaped = agent.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(or_(r.agent == agent, r.agents.like(f"%:{escaped} %", escape="\\")))
    if queue is not None:
        query = query.where(r.queue_id == queue)
    if queues is not None:
        query = query.where(r.queue_id.in_(sorted(queues)))
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(r.start, r.uniqueid).limit(LIMIT)).mappings()
        found = [dict(row) for row in rows]
    return [row for row in found if agent is None or agent in names(row)]


def names(row: Mapping[str, Any]) -> list[str]:
    """The usernames of every agent of a recording, in order (its ``agent`` alone for a
    recording indexed before migration 0017)."""
    agents = [username for _id, username in t.agents_of(row.get("agents"))]
    if not agents and row.get("agent"):
        agents = [str(row["agent"])]
    return agents


def remove(engine: Engine, uniqueid: str) -> bool:
    with engine.begin() as conn:
        done = conn.execute(delete(t.recordings).where(t.recordings.c.uniqueid == uniqueid))
        return done.rowcount > 0


def older_than(engine: Engine, before: float) -> list[dict[str, Any]]:
    """Recordings that started before ``before`` (retention)."""
    r = t.recordings.c
    with engine.connect() as conn:
        query = select(t.recordings).where(r.start < before).order_by(r.start).limit(LIMIT)
        return [dict(row) for row in conn.execute(query).mappings()]
