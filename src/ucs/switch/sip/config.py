"""Building the SIP switch from the server's settings and database."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from ucs.core.directory import Directory
from ucs.storage import partitions, schema
from ucs.storage.store import RowDeleted, RowUpserted, Store
from ucs.switch.sip.phones import parse_hostport
from ucs.switch.sip.placement import Placement
from ucs.switch.sip.registrar import Binding
from ucs.switch.sip.switch import SipConfig, SipSwitch

__all__ = ["PhoneSecrets", "StoredBindings", "sip_switch"]


class PhoneSecrets:
    """Each phone's SIP password, read from the database (kept a few seconds)."""

    def __init__(self, store: Store, ttl: float = 5.0) -> None:
        self.store, self.ttl = store, ttl
        self._cache: dict[str, tuple[float, str | None]] = {}

    def __call__(self, identifier: str) -> str | None:
        now = time.monotonic()
        hit = self._cache.get(identifier)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        rows = self.store.rows(schema.lines, identifier=identifier)
        secret = str(rows[0]["secret"]) if rows and rows[0]["secret"] else None
        self._cache[identifier] = (now, secret)
        return secret


class StoredBindings:
    """The registrar's bindings in the database (``sip_bindings``), written by the store's
    writer in order with everything else."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def load(self) -> list[Binding]:
        return [Binding(**r) for r in self.store.rows(schema.sip_bindings)]

    def save(self, identifier: str, binding: Binding | None) -> None:
        table = schema.sip_bindings.name
        if binding is None:
            self.store.deliver(RowDeleted(table, "identifier", identifier))
        else:
            self.store.deliver(RowUpserted(table, dataclasses.asdict(binding), ("identifier",)))


def sip_switch(
    settings: Any, store: Store, catalog: Callable[[], Directory] | None = None
) -> SipSwitch:
    """``settings``: the server's ``Settings`` (``sip_host``, ``sip_port``, ``sip_trunk``; in a
    cluster ``node`` and ``partition``); ``catalog``: the whole directory (a cluster's node
    redirects what is another partition's)."""
    trunk = parse_hostport(settings.sip_trunk) if settings.sip_trunk else None
    proxies = tuple(parse_hostport(p) for p in settings.sip_proxy.split(",") if p.strip())
    config = SipConfig(host=settings.sip_host, port=settings.sip_port, trunk=trunk, proxies=proxies)
    placement = None
    if settings.node and catalog is not None:
        placement = Placement(
            settings.partition, catalog, lambda: partitions.sip_owners(store.engine)
        )
    return SipSwitch(config, PhoneSecrets(store), StoredBindings(store), placement)
