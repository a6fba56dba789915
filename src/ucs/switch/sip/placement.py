"""Which node of a cluster a SIP request is for (CONTRACT §13, docs/deploy.md "SIP in a
cluster"). Runs on sippy's thread.

A node runs one partition: its queues and agents. A phone belongs to the partition of the
agents whose own phone it is (``AgentConfig.lines``; a phone no agent lists, to ``main``); a
number, to the partition of the queue it calls, or of the phone whose extension it is. A
request for another partition (a phone's REGISTER or INVITE, the trunk's INVITE to a number)
is answered by a redirect to the SIP address of the node that runs it, as the lease table
says (``partition_owner.sip``); Kamailio, in front of the nodes, follows it. The other nodes'
SIP addresses also tell a call from another node (a transfer across partitions) from a
phone's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from sippy.SipHeader import SipHeader

from ucs.core.directory import DEFAULT_PARTITION, Directory
from ucs.switch.sip.phones import parse_hostport, source_of

__all__ = ["Placement", "redirect"]

log = logging.getLogger("ucs.sip")


class Placement:
    def __init__(
        self,
        partition: str,
        catalog: Callable[[], Directory],
        owners: Callable[[], Mapping[str, str]],
        *,
        ttl: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``partition``: this node's; ``catalog``: the whole directory, every partition's;
        ``owners``: each partition's owner's SIP address (HOST:PORT) as the lease table says
        (a query: kept ``ttl`` seconds)."""
        self.partition = partition
        self._catalog = catalog
        self._owners = owners
        self.ttl = ttl
        self.clock = clock
        self._seen: tuple[float, dict[str, tuple[str, int]]] | None = None
        self._index: tuple[Directory, dict[str, str], dict[str, str]] | None = None

    # --- the directory ---------------------------------------------------------------------

    def _indexes(self) -> tuple[dict[str, str], dict[str, str]]:
        """(phone identifier → partition, number → partition), for the catalog as it is."""
        catalog = self._catalog()
        if self._index is None or self._index[0] is not catalog:
            phones: dict[str, str] = {}
            for agent in sorted(catalog.agents.values(), key=lambda a: a.id):
                for lid in agent.lines:
                    line = catalog.lines.get(lid)
                    if line is not None:
                        phones.setdefault(line.identifier, agent.partition)
            numbers: dict[str, str] = {}
            for line in catalog.lines.values():
                part = phones.setdefault(line.identifier, DEFAULT_PARTITION)
                numbers[line.extension] = part
            for queue in catalog.queues.values():
                if queue.number:
                    numbers[queue.number] = queue.partition
            self._index = (catalog, phones, numbers)
        return self._index[1], self._index[2]

    def of_phone(self, identifier: str) -> str | None:
        """The partition of one of our phones; None: no such phone."""
        return self._indexes()[0].get(identifier)

    def of_number(self, number: str) -> str | None:
        """The partition a number (a queue's, a phone's extension) calls into; None: an
        outside number."""
        return self._indexes()[1].get(number)

    # --- the nodes ---------------------------------------------------------------------------

    def _addresses(self) -> dict[str, tuple[str, int]]:
        now = self.clock()
        if self._seen is None or now - self._seen[0] >= self.ttl:
            try:
                found = {p: parse_hostport(a) for p, a in self._owners().items()}
            except Exception as err:  # the database is away: what was known, for now
                log.warning("cluster: the partitions' SIP owners cannot be read: %s", err)
                found = self._seen[1] if self._seen is not None else {}
            self._seen = (now, found)
        return self._seen[1]

    def owner(self, partition: str) -> tuple[str, int] | None:
        """Where the node that runs ``partition`` takes SIP requests; None: none runs it now
        (or it has no SIP)."""
        return self._addresses().get(partition)

    def elsewhere(self, partition: str | None) -> bool:
        """Whether ``partition`` is another node's (None: nobody's, so this node's)."""
        return partition is not None and partition != self.partition

    def node_for(self, number: str) -> tuple[tuple[str, int] | None, str] | None:
        """For a number of another partition: where its node takes SIP (None: no node runs
        it now) and the partition; None for a number of this one or an outside number."""
        partition = self.of_number(number)
        if partition is None or not self.elsewhere(partition):
            return None
        return self.owner(partition), partition

    def is_node(self, source: tuple[str, int]) -> bool:
        """Whether ``source`` is the SIP address of another node of the cluster."""
        return any(
            source == address
            for partition, address in self._addresses().items()
            if partition != self.partition
        )


def redirect(placement: Placement, req: Any, trunk: tuple[str, int] | None) -> Any | None:
    """The answer to a REGISTER or a new INVITE that is another node's: ``302`` naming that
    node (Kamailio follows it), or ``503`` while no node runs its partition (Kamailio tries
    another node, a phone tries again later); None when it is this node's."""
    method = req.getMethod()
    if method == "REGISTER":
        user = req.getHFBody("to").getUrl().username or ""
        partition = placement.of_phone(user)
    elif method == "INVITE":
        user = req.getRURI().username or ""
        source = source_of(req)
        if source == trunk or placement.is_node(source):
            partition = placement.of_number(user)  # from outside: where the number is
        else:  # a phone calls: its own partition's node places the call
            partition = placement.of_phone(req.getHFBody("from").getUrl().username or "")
    else:
        return None
    if not placement.elsewhere(partition):
        return None
    assert partition is not None
    where = placement.owner(partition)
    if where is None:
        resp = req.genResponse(503, "Service Unavailable")
        resp.appendHeader(SipHeader(name="retry-after", bodys="1"))
        return resp
    resp = req.genResponse(302, "Moved Temporarily")
    host, port = where
    resp.appendHeader(SipHeader(name="contact", bodys=f"<sip:{user}@{host}:{port}>"))
    return resp
