"""Building the SIP switch from the server's settings and database."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from ucs.storage import schema
from ucs.storage.store import RowDeleted, RowUpserted, Store
from ucs.switch.sip.registrar import Binding
from ucs.switch.sip.switch import SipConfig, SipSwitch, parse_hostport

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


def sip_switch(settings: Any, store: Store) -> SipSwitch:
    """``settings``: the server's ``Settings`` (``sip_host``, ``sip_port``, ``sip_trunk``)."""
    trunk = parse_hostport(settings.sip_trunk) if settings.sip_trunk else None
    config = SipConfig(host=settings.sip_host, port=settings.sip_port, trunk=trunk)
    return SipSwitch(config, PhoneSecrets(store), StoredBindings(store))
