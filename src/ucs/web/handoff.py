"""Handing clients on (CONTRACT §13): a node of a cluster runs one partition; a component or
SDK client that logs in or resumes there as an agent of another partition is told where that
partition's owner is, and goes there (docs/protocol.md, "Hand-off").

Nothing of the client's credentials is checked or used up here: the node only looks up which
partition the username (or the session token's agent) is in, and who runs it now. A username
the database does not know is left to the node itself, which refuses it as ever.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError, OperationalError

from ucs.runtime.tokens import token_digest
from ucs.storage import partitions
from ucs.web.hub import encode

if TYPE_CHECKING:
    from ucs.web.server import Server

__all__ = ["MOVED", "error", "for_token", "for_username", "socket_path"]

log = logging.getLogger("ucs.cluster")

MOVED = "MOVED"
"""The error code of a ``login`` or ``sso`` that another node must answer."""


def error(moved: dict[str, Any], request: object) -> str:
    """The answer to a request another node must answer: an ``error`` of code ``MOVED``."""
    where = moved["url"] or "no node runs it just now: try again in a moment"
    message = f"the agent's partition {moved['partition']!r} is served by another node: {where}"
    body = {"type": "error", "id": request, "code": MOVED, "message": message, **moved}
    return encode(body)


def socket_path(path: str) -> bool:
    """Whether ``path`` is the operator protocol's: ``/ws``, or ``/node/NAME/ws``, the path
    a node advertises behind HAProxy (``deploy/haproxy.cfg`` routes it to that node)."""
    if path == "/ws":
        return True
    parts = path.split("/")
    return len(parts) == 4 and parts[1] == "node" and bool(parts[2]) and parts[3] == "ws"


async def for_username(server: Server, username: Any) -> dict[str, Any] | None:
    """Where a login as ``username`` belongs, when another node's partition has that agent:
    ``{"partition", "node", "url"}`` (``url`` None while no node runs it); else None."""
    if server.lease is None or not isinstance(username, str) or len(username) > 128:
        return None
    if server.center.directory.agent_by_username(username) is not None:
        return None  # this node's own agent
    return await _elsewhere(server, partitions.of_username, username)


async def for_token(server: Server, token: Any) -> dict[str, Any] | None:
    """Where a session token this node does not know belongs (a resume after a hand-off or a
    take-over), as ``for_username``."""
    if server.lease is None or not isinstance(token, str) or len(token) > 256:
        return None
    if server.tokens.agent(token) is not None:
        return None
    return await _elsewhere(server, partitions.of_token, token_digest(token))


async def _elsewhere(server: Server, find: Any, key: str) -> dict[str, Any] | None:
    engine = server.store.engine
    try:
        partition = await asyncio.to_thread(find, engine, key)
        if partition is None or partition == server.settings.partition:
            return None
        owner = await asyncio.to_thread(partitions.owner, engine, partition)
    except (OperationalError, DBAPIError) as err:
        log.warning("cluster: cannot look up where a client belongs: %s", err)
        return None
    if owner is None or owner.url is None:
        return {"partition": partition, "node": None, "url": None}
    return {"partition": partition, "node": owner.node, "url": owner.url}
