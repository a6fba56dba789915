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

import logging
import os
import sys
from typing import TYPE_CHECKING, Any

from ucs.storage.lease import Keeper, Lease, Owner

if TYPE_CHECKING:
    from ucs.storage.store import Store
    from ucs.web.server import Server, Settings

__all__ = ["STEPPED_DOWN", "hold", "let_go", "status", "step_down", "take_partition"]

log = logging.getLogger("ucs.cluster")

STEPPED_DOWN = 75
"""The exit code of a node that lost its partition (EX_TEMPFAIL: start it again)."""


def take_partition(settings: Settings, store: Store) -> Lease | None:
    """For a node of a cluster: wait until it owns its partition, and fence the store's
    writes with the lease's epoch; None for a server on its own."""
    if not settings.node:
        return None
    lease = Lease(store.url, settings.partition, settings.node, seconds=settings.lease_seconds)

    def waiting(owner: Owner) -> None:
        log.warning(
            "cluster: node %s is a standby: partition %r is run by node %s (epoch %d); it "
            "takes over when that node stops",
            settings.node,
            settings.partition,
            owner.node,
            owner.epoch,
        )

    fence = lease.acquire(waiting=waiting)
    log.warning(
        "cluster: node %s runs partition %r (epoch %d)",
        settings.node,
        settings.partition,
        fence.epoch,
    )
    store.fence_with(fence)
    store.writer.on_fenced = step_down
    return lease


def step_down(why: str) -> None:
    """The partition is lost: stop serving now, whatever is in flight (a newer owner has it,
    and this node's writes are refused anyway)."""
    log.critical("cluster: this node lost its partition (%s): it stops serving now", why)
    logging.shutdown()
    sys.stderr.flush()
    os._exit(STEPPED_DOWN)


def hold(server: Server) -> Keeper | None:
    """Renew the server's lease from now on (its lifespan's start)."""
    if server.lease is None:
        return None
    keeper = Keeper(server.lease, step_down)
    keeper.start()
    return keeper


def let_go(server: Server, keeper: Keeper | None) -> None:
    """At a stop, once everything is written: give the partition to a standby at once."""
    if keeper is not None:
        keeper.stop()
    if server.lease is not None:
        server.lease.release()


def status(server: Server) -> dict[str, Any]:
    """What ``/healthz`` tells of the node: its name, partition and epoch (none alone)."""
    lease = server.lease
    if lease is None or lease.fence is None:
        return {}
    return {"node": lease.node, "partition": lease.partition, "epoch": lease.fence.epoch}
