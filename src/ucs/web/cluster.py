"""A node of a cluster (CONTRACT §13): it serves only the partition it holds the lease of.

``ucs serve --cluster --node NAME`` on PostgreSQL: at start, after the schema is up to date, the
node waits for its partition's lease (``storage/lease.py``) before it loads anything, so a
standby neither listens nor holds state, and a load balancer's health check (``/healthz``)
sends clients to the owner. Once it owns the partition, every write carries the epoch of its
lease; it renews the lease every second, and the first time it cannot (another node took the
partition over, or its connection to the database broke) it stops serving at once: the process
exits (code 75), so its clients reconnect to the new owner, and its service manager starts it
again, as a standby. The take-over itself is the restart path a single server already has
(agents, sessions, tokens and bindings loaded; calls that were live recorded as ended).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError, OperationalError

from ucs.storage import partitions
from ucs.storage.lease import Keeper, Lease
from ucs.web.health import listening

if TYPE_CHECKING:
    from ucs.storage.store import Store
    from ucs.web.server import Server, Settings

__all__ = [
    "STEPPED_DOWN",
    "advertised",
    "hold",
    "keep",
    "let_go",
    "sip_advertised",
    "started",
    "status",
    "step_down",
    "take_partition",
]

log = logging.getLogger("ucs.cluster")

STEPPED_DOWN = 75
"""The exit code of a node that lost its partition (EX_TEMPFAIL: start it again)."""
_POLL = 0.5
"""Seconds between a standby's tries of the partitions' leases."""


def take_partition(settings: Settings, store: Store) -> Lease | None:
    """For a node of a cluster: wait until it owns a partition (the one ``--partition``
    names, else the first of all the partitions queues and agents are in whose lease is
    free), and fence the store's writes with the lease's epoch; None for a server on its
    own. Sets ``settings.partition`` to the partition taken."""
    if not settings.node:
        return None
    leases: dict[str, Lease] = {}
    told: set[tuple[str, str, int]] = set()
    while True:
        for name in _candidates(settings, store):
            lease = leases.get(name)
            if lease is None:
                lease = leases[name] = Lease(
                    store.url,
                    name,
                    settings.node,
                    seconds=settings.lease_seconds,
                    advertise=advertised(settings),
                    sip=sip_advertised(settings),
                )
            try:
                fence = lease.try_acquire()
                owner = None if fence is not None else lease.owner()
            except (OperationalError, DBAPIError) as err:
                log.warning("cluster: the database cannot be asked for the lease: %s", err)
                lease.idle()
                continue
            if fence is not None:
                for other in leases.values():
                    if other is not lease:
                        other.release()
                settings.partition = name
                log.warning(
                    "cluster: node %s runs partition %r (epoch %d)",
                    settings.node,
                    name,
                    fence.epoch,
                )
                store.fence_with(fence)
                store.writer.on_fenced = step_down
                return lease
            if owner is not None and (name, owner.node, owner.epoch) not in told:
                told.add((name, owner.node, owner.epoch))
                log.warning(
                    "cluster: node %s is a standby: partition %r is run by node %s (epoch %d); "
                    "it takes over when that node stops",
                    settings.node,
                    name,
                    owner.node,
                    owner.epoch,
                )
        time.sleep(_POLL)


def _candidates(settings: Settings, store: Store) -> list[str]:
    """The partitions a node may take: the one it was told to, else every one there is."""
    if settings.partition:
        return [settings.partition]
    try:
        return partitions.known(store.engine)
    except (OperationalError, DBAPIError) as err:
        log.warning("cluster: the database cannot say which partitions there are: %s", err)
        return []


def advertised(settings: Settings) -> str:
    """Where clients reach this node: ``--advertise``, else its own address."""
    if settings.advertise:
        return settings.advertise.rstrip("/") + "/"
    host = settings.host if settings.host not in ("", "0.0.0.0", "::") else socket.getfqdn()
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.port}/"


def sip_advertised(settings: Settings) -> str:
    """Where other nodes (and Kamailio, by their redirects) send this node SIP requests:
    ``--sip-advertise``, else its SIP address; empty without SIP."""
    if settings.switch != "sip":
        return ""
    return settings.sip_advertise or f"{settings.sip_host}:{settings.sip_port}"


def step_down(why: str) -> None:
    """The partition is lost: stop serving now, whatever is in flight (a newer owner has it,
    and this node's writes are refused anyway)."""
    log.critical("cluster: this node lost its partition (%s): it stops serving now", why)
    logging.shutdown()
    sys.stderr.flush()
    os._exit(STEPPED_DOWN)


def keep(lease: Lease | None) -> Keeper | None:
    """Renew ``lease`` each second from now on, as soon as it is taken: loading the
    partition (a demo's seeding, a take-over's restore on a busy machine) may take longer than
    the lease, and a standby would take the partition over from a node still starting."""
    if lease is None:
        return None
    keeper = Keeper(lease, step_down)
    keeper.start()
    return keeper


def hold(server: Server) -> Keeper | None:
    """From the server's lifespan's start, each renewal of its lease (``keep``) also looks
    whether another node changed the directory since the server loaded it (then loads it
    again); and once the server's port takes connections, the lease says where clients reach
    it (``Lease.publish``: until then other nodes hand no client to it)."""
    if server.keeper is None:
        return None
    loop = asyncio.get_running_loop()
    reloads: set[asyncio.Task[None]] = set()
    published = loop.create_task(_publish(server))
    reloads.add(published)  # held until done, with the reloads
    published.add_done_callback(reloads.discard)

    def reload() -> None:
        task = loop.create_task(server.reload_directory())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    def watch() -> None:
        version = partitions.directory_version(server.store.engine)
        if version != server.directory_version:
            server.directory_version = version
            log.info("cluster: the directory changed at another node: loading it again")
            loop.call_soon_threadsafe(reload)

    server.keeper.watch = watch
    return server.keeper


async def _publish(server: Server) -> None:
    lease = server.lease
    if lease is None:
        return
    await listening(server.settings.host, server.settings.port)
    try:
        mine = await asyncio.to_thread(lease.publish)
    except (OperationalError, DBAPIError) as err:  # the keeper's renewal decides what follows
        log.warning("cluster: cannot say where this node is reached: %s", err)
        return
    if mine:
        log.info("cluster: node %s is reached at %s", lease.node, lease.advertise)


def let_go(server: Server, keeper: Keeper | None) -> None:
    """At a stop, once everything is written: give the partition to a standby at once."""
    if keeper is not None:
        keeper.stop()
    if server.lease is not None:
        server.lease.release()


def started(server: Server) -> str:
    """The line logged once the server serves: each step of its start, timed from the moment
    it took its partition's lease (a take-over's time, docs/deploy.md)."""
    lease = server.lease
    if lease is None or lease.fence is None:
        return f"started: {server.steps.line()}"
    return (
        f"cluster: node {lease.node} serves partition {lease.partition!r} (epoch "
        f"{lease.fence.epoch}), {len(server.center.sessions)} sessions restored: "
        f"{server.steps.line()}"
    )


def status(server: Server) -> dict[str, Any]:
    """What ``/healthz`` tells of the node: its name, partition and epoch (none alone)."""
    lease = server.lease
    if lease is None or lease.fence is None:
        return {}
    return {"node": lease.node, "partition": lease.partition, "epoch": lease.fence.epoch}
