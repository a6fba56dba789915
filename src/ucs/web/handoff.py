"""Handing clients on (CONTRACT §13): a node of a cluster runs one partition; a component or
SDK client that logs in or resumes there as an agent of another partition is told where that
partition's owner is, and goes there (docs/protocol.md, "Hand-off").

Nothing of the client's credentials is checked or used up here: the node only looks up which
partition the username (or the session token's agent) is in, and who runs it now. A username
the database does not know is left to the node itself, which refuses it as ever.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

from ucs.core.ids import AgentId
from ucs.core.recent import Recent
from ucs.runtime.tokens import token_digest
from ucs.storage import partitions
from ucs.web.hub import encode

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from starlette.types import Scope

    from ucs.core.directory import Directory
    from ucs.web.server import Server

__all__ = [
    "MOVED",
    "Whereabouts",
    "error",
    "for_token",
    "for_username",
    "node_scope",
    "socket_path",
]

T = TypeVar("T")
K = TypeVar("K")

log = logging.getLogger("ucs.cluster")

MOVED = "MOVED"
"""The error code of a ``login`` or ``sso`` that another node must answer."""
HOLD = 5.0
"""Seconds a client of a partition that no node serves just now (being taken over) is held
before it is told so: it is handed on the moment the new owner serves, instead of coming
back again and again meanwhile (a thousand clients: thousands of connections a second)."""


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


def node_scope(scope: Scope) -> Scope:
    """An HTTP request's scope with ``/node/NAME`` taken off the front of its path: behind
    HAProxy (``deploy/haproxy.cfg``) ``/node/NAME/…`` reaches the node NAME, so what only the
    node that runs a partition answers (the simulator's calls, today's figures) is asked there
    through the one address (``/node/NAME/api/sim/calls``). Other paths are left alone."""
    path: str = scope.get("path", "")
    if not path.startswith("/node/"):
        return scope
    cut = path.find("/", len("/node/"))
    if cut <= len("/node/"):
        return scope
    rest = path[cut:]
    raw: bytes = scope.get("raw_path") or path.encode()
    raw_cut = raw.find(b"/", len(b"/node/"))
    return {**scope, "path": rest, "raw_path": raw[raw_cut:] if raw_cut > 0 else rest.encode()}


async def for_username(server: Server, username: Any) -> dict[str, Any] | None:
    """Where a login as ``username`` belongs, when another node's partition has that agent:
    ``{"partition", "node", "url"}`` (``url`` None while no node runs it); else None."""
    if server.lease is None or not isinstance(username, str) or len(username) > 128:
        return None
    if server.center.directory.agent_by_username(username) is not None:
        return None  # this node's own agent
    return await _elsewhere(server, server.whereabouts.of_username, username)


async def for_token(server: Server, token: Any) -> dict[str, Any] | None:
    """Where a session token this node does not know belongs (a resume after a hand-off or a
    take-over), as ``for_username``."""
    if server.lease is None or not isinstance(token, str) or len(token) > 256:
        return None
    if server.tokens.agent(token) is not None:
        return None
    return await _elsewhere(server, server.whereabouts.of_token, token_digest(token))


async def _elsewhere(
    server: Server, find: Callable[[str], Awaitable[str | None]], key: str
) -> dict[str, Any] | None:
    try:
        partition = await find(key)
        if partition is None or partition == server.settings.partition:
            return None
        owner = await server.whereabouts.serving(partition, HOLD)
    except (OperationalError, DBAPIError) as err:
        log.warning("cluster: cannot look up where a client belongs: %s", err)
        return None
    if owner is None or owner.url is None:
        return {"partition": partition, "node": None, "url": None}
    return {"partition": partition, "node": owner.node, "url": owner.url}


class Whereabouts:
    """Which partition an agent (by username or session token) is in, and who runs a
    partition, as the hand-off asks: from the directory this node holds (every partition's,
    ``Server.catalog``, loaded again whenever it changes) where it can, else from the
    database, the answers kept a short while (``core/recent.py``). A reconnect storm (a
    thousand clients of a partition being taken over, each trying again and again) then costs
    a look-up per token and one per partition every ``OWNER_TTL`` seconds, not two per attempt.

    An owner is kept at most ``OWNER_TTL`` seconds, and no longer than its lease holds (a
    node that stopped renewing is asked about again when its lease lapses): a client is never
    handed to a stale owner for longer than that. "No node serves it" (a take-over: the new
    owner publishes its address once it listens, ``Lease.publish``) is kept
    ``UNSERVED_TTL``. A token's agent never changes, so it is kept longer (``TOKEN_TTL``);
    the agent's partition is the directory's, as fresh as it is. A look-up that fails (the
    database unavailable) raises, and is not kept.
    """

    OWNER_TTL = 1.0
    UNSERVED_TTL = 0.25
    """How long "no node serves it" is kept: what clients held (``serving``) look at."""
    TOKEN_TTL = 60.0
    TOKEN_BATCH = 500
    """Tokens looked up in one query at most."""

    def __init__(
        self,
        engine: Engine,
        catalog: Callable[[], Directory],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.catalog = catalog
        self.clock = clock
        self.owners: Recent[str, partitions.Owner | None] = Recent(self.OWNER_TTL)
        self.tokens: Recent[str, int] = Recent(self.TOKEN_TTL)
        self._asking: dict[str, asyncio.Future[partitions.Owner | None]] = {}
        self._wanted: dict[str, asyncio.Future[int | None]] = {}
        """Tokens whose agent is to be looked up, each with who waits for the answer."""
        self._asking_tokens: asyncio.Future[None] | None = None
        self.lookups = 0
        """Round trips to the database so far (the tests and the bench count them)."""

    async def of_username(self, username: str) -> str | None:
        agent = self.catalog().agent_by_username(username)
        if agent is not None:
            return agent.partition
        return await self._ask(partitions.of_username, username)  # maybe added a moment ago

    async def of_token(self, digest: str) -> str | None:
        kept = self.tokens.get(digest, self.clock())
        agent_id = kept[0] if kept is not None else await self._agent_of(digest)
        if agent_id is None:
            return None
        agent = self.catalog().agents.get(AgentId(agent_id))
        if agent is not None:
            return agent.partition
        return await self._ask(partitions.of_token, digest)  # an agent added a moment ago

    async def serving(self, partition: str, hold: float) -> partitions.Owner | None:
        """Who serves ``partition``, waiting up to ``hold`` seconds while no node does (one
        look-up every ``UNSERVED_TTL`` seconds for all who wait); None or an owner without an
        address when none serves by then."""
        deadline = self.clock() + hold
        while True:
            owner = await self.owner(partition)
            if owner is not None and owner.url is not None:
                return owner
            if self.clock() >= deadline:
                return owner
            await asyncio.sleep(self.UNSERVED_TTL)

    async def _agent_of(self, digest: str) -> int | None:
        """The agent of a token not kept: the tokens asked for while a look-up is under way
        are looked up together next (a storm of a thousand clients: a few queries, not a
        thousand)."""
        wanted = self._wanted.get(digest)
        if wanted is None:
            wanted = self._wanted[digest] = asyncio.get_running_loop().create_future()
            if self._asking_tokens is None or self._asking_tokens.done():
                self._asking_tokens = asyncio.ensure_future(self._look_up_tokens())
        return await asyncio.shield(wanted)

    async def _look_up_tokens(self) -> None:
        await asyncio.sleep(0)  # the clients that came at the same moment join the first
        while self._wanted:
            batch = dict(itertools.islice(self._wanted.items(), self.TOKEN_BATCH))
            for digest in batch:
                del self._wanted[digest]
            try:
                found = await self._ask(partitions.agents_of_tokens, list(batch))
            except Exception as err:  # the database unavailable: each waiter hears it
                for future in batch.values():
                    if not future.done():
                        future.set_exception(err)
                continue
            now = self.clock()
            for digest, future in batch.items():
                agent = found.get(digest)
                if agent is not None:
                    self.tokens.put(digest, agent, now)
                if not future.done():
                    future.set_result(agent)

    async def owner(self, partition: str) -> partitions.Owner | None:
        """Who runs ``partition``; the clients asking at the same moment share one look-up."""
        kept = self.owners.get(partition, self.clock())
        if kept is not None:
            return kept[0]
        asking = self._asking.get(partition)
        if asking is None:
            asking = asyncio.ensure_future(self._look_up_owner(partition))
            self._asking[partition] = asking
            asking.add_done_callback(lambda _: self._asking.pop(partition, None))
        return await asyncio.shield(asking)

    async def _look_up_owner(self, partition: str) -> partitions.Owner | None:
        found: partitions.Owner | None = await self._ask(partitions.owner, partition)
        life = self.UNSERVED_TTL if found is None or found.url is None else found.live_for
        self.owners.put(partition, found, self.clock(), life)
        return found

    async def _ask(self, find: Callable[[Engine, K], T], key: K) -> T:
        self.lookups += 1
        return await asyncio.to_thread(find, self.engine, key)
