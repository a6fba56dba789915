"""What a node of a cluster asks the database about partitions (CONTRACT §13): which exist,
which one an agent or a session token belongs to, where a partition's owner is reached, and
whether the directory changed at another node.

All reads (the last, a write of one settings row): blocking, for a worker thread.
"""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, select, text, union

from ucs.core.directory import DEFAULT_PARTITION
from ucs.storage import schema as t
from ucs.storage.upsert import upsert

__all__ = [
    "DIRECTORY_VERSION",
    "Owner",
    "agents_of_tokens",
    "changed_directory",
    "directory_version",
    "known",
    "of_token",
    "of_username",
    "owner",
    "sip_owners",
]

DIRECTORY_VERSION = "directory_version"
"""The settings row a change of the directory rewrites, so that every node reloads it."""


def known(engine: Engine) -> list[str]:
    """Every partition a queue or an agent is in, and ``main``; in order, ``main`` first."""
    query = union(select(t.queues.c.partition), select(t.agents.c.partition))
    with engine.connect() as conn:
        names = {row[0] for row in conn.execute(query)}
    names.discard(DEFAULT_PARTITION)
    return [DEFAULT_PARTITION, *sorted(names)]


def of_username(engine: Engine, username: str) -> str | None:
    """The partition of the agent with this username; None: there is none."""
    query = select(t.agents.c.partition).where(t.agents.c.username == username)
    with engine.connect() as conn:
        found = conn.execute(query).scalar()
    return None if found is None else str(found)


def of_token(engine: Engine, digest: str) -> str | None:
    """The partition of the agent a session token (by its digest) was issued to."""
    query = (
        select(t.agents.c.partition)
        .join(t.tokens, t.tokens.c.agent_id == t.agents.c.id)
        .where(t.tokens.c.token == digest)
    )
    with engine.connect() as conn:
        found = conn.execute(query).scalar()
    return None if found is None else str(found)


def agents_of_tokens(engine: Engine, digests: list[str]) -> dict[str, int]:
    """The agent each of these session tokens (by their digests) was issued to; a digest
    that is no token's is left out."""
    query = select(t.tokens.c.token, t.tokens.c.agent_id).where(t.tokens.c.token.in_(digests))
    with engine.connect() as conn:
        return {str(token): int(agent) for token, agent in conn.execute(query)}


class Owner:
    """A partition's owner as its row says: the node, and where clients reach it (None when
    the node said nothing, or its lease has lapsed: no node runs the partition just now), and
    for how many seconds more its lease holds without a renewal (0 once lapsed)."""

    def __init__(self, node: str, url: str | None, live_for: float = 0.0) -> None:
        self.node = node
        self.url = url
        self.live_for = live_for


def owner(engine: Engine, partition: str) -> Owner | None:
    """Who runs ``partition`` (PostgreSQL: a cluster's). A lease that has lapsed, on the
    database's clock, reads as no address: no node runs the partition just now."""
    query = text(
        "SELECT node, url, expires - extract(epoch FROM clock_timestamp()) AS left "
        "FROM partition_owner WHERE partition = :p"
    )
    with engine.connect() as conn:
        row = conn.execute(query, {"p": partition}).one_or_none()
    if row is None:
        return None
    left = float(row.left)
    return Owner(row.node, row.url if left > 0 else None, max(left, 0.0))


def sip_owners(engine: Engine) -> dict[str, str]:
    """Where each partition's owner takes SIP requests (HOST:PORT), for the owners whose lease
    holds and who said (``--switch sip``)."""
    query = text(
        "SELECT partition, sip FROM partition_owner WHERE sip IS NOT NULL "
        "AND expires > extract(epoch FROM clock_timestamp())"
    )
    with engine.connect() as conn:
        return {str(r.partition): str(r.sip) for r in conn.execute(query)}


def directory_version(engine: Engine) -> str:
    """The directory's version: another one means another node changed it."""
    query = select(t.settings.c.value).where(t.settings.c.key == DIRECTORY_VERSION)
    with engine.connect() as conn:
        return str(conn.execute(query).scalar() or "")


def changed_directory(engine: Engine) -> str:
    """Say that the directory changed (after an administrator's change); the new version."""
    version = secrets.token_hex(8)
    with engine.begin() as conn:
        upsert(conn, t.settings, [{"key": DIRECTORY_VERSION, "value": version}], ["key"])
    return version
