"""Who may hold a connection before logging in: a cap per client address.

A connection that has no session (it has not logged in, or it logged out) is *pending*. Each
client address may hold ``per_address`` pending WebSockets; more are refused at once, so that
a few clients cannot take every file descriptor of the server with sockets that never log in.
Connections with a session do not count: ten thousand agents behind one address (a NAT, a
proxy, the benchmark on loopback) are fine, as long as no more than ``per_address`` of them are
between connecting and logging in at the same moment.

The count is kept as connections come, log in, log out, are told that their session ended
(a logout in another tab) and go (``ws.py`` calls ``settle`` at each of these). Before a
connection is refused, the address's connections are counted again from the truth (who has a
session now), so that a count gone wrong can only ever let one in, never keep one out. IPv6
addresses count per /64 network, what one host is usually given.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from ucs.core.ids import ClientId

__all__ = ["Admission", "Ticket", "address_key"]


def address_key(host: str) -> str:
    """What a client address counts as: the address itself (IPv4, or an IPv4 address mapped
    into IPv6), or its /64 network (IPv6)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return host


@dataclass(eq=False, slots=True)
class Ticket:
    """One admitted connection: its address, and whether it was pending when last looked at."""

    address: str
    client: ClientId | None = None
    """The connection's id once it has one."""
    pending: bool = True


class Admission:
    """Pending connections per client address. ``has_session`` tells whether a connection
    has a session now."""

    def __init__(self, per_address: int, has_session: Callable[[ClientId], bool]) -> None:
        self.per_address = per_address
        self.has_session = has_session
        self._tickets: dict[str, set[Ticket]] = {}
        self._pending: dict[str, int] = {}

    def pending(self, address: str) -> int:
        """Pending connections of ``address`` (by its ``address_key``), as counted."""
        return self._pending.get(address_key(address), 0)

    def admit(self, host: str) -> Ticket | None:
        """A ticket for a new connection from ``host``, or None when its address already holds
        ``per_address`` pending connections."""
        key = address_key(host)
        if self._pending.get(key, 0) >= self.per_address and self._recount(key) >= self.per_address:
            return None
        ticket = Ticket(key)
        self._tickets.setdefault(key, set()).add(ticket)
        self._pending[key] = self._pending.get(key, 0) + 1
        return ticket

    def settle(self, ticket: Ticket) -> None:
        """Look again at whether the connection is pending (after each of its messages, and
        when it is told that its session ended)."""
        pending = ticket.client is None or not self.has_session(ticket.client)
        if pending != ticket.pending:
            ticket.pending = pending
            self._add(ticket.address, 1 if pending else -1)

    def leave(self, ticket: Ticket) -> None:
        """The connection is gone."""
        tickets = self._tickets.get(ticket.address)
        if tickets is None or ticket not in tickets:
            return
        tickets.discard(ticket)
        if not tickets:
            del self._tickets[ticket.address]
        if ticket.pending:
            self._add(ticket.address, -1)

    def _add(self, key: str, n: int) -> None:
        count = self._pending.get(key, 0) + n
        if count > 0:
            self._pending[key] = count
        else:
            self._pending.pop(key, None)

    def _recount(self, key: str) -> int:
        """Count the address's pending connections from the truth, and keep that count."""
        for ticket in self._tickets.get(key, ()):
            ticket.pending = ticket.client is None or not self.has_session(ticket.client)
        count = sum(1 for ticket in self._tickets.get(key, ()) if ticket.pending)
        self._pending.pop(key, None)
        if count:
            self._pending[key] = count
        return count
