"""The demo data of CONTRACT §2: three agents, a supervisor, four phones, three queues; and
the check at start that none of its credentials is in force outside the demo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ucs.core.directory import (
    AgentConfig,
    Directory,
    LineConfig,
    Membership,
    QueueConfig,
    QueueType,
    Strategy,
)
from ucs.core.ids import AgentId, LineId, QueueId

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy import Table

    from ucs.storage.store import Store
    from ucs.web.server import Settings

__all__ = [
    "DEMO_ADMIN_TOKEN",
    "DEMO_PASSWORDS",
    "DEMO_PHONE_SECRETS",
    "DEMO_SSO_SECRET",
    "DemoCredential",
    "demo_credentials",
    "demo_directory",
]

DEMO_SSO_SECRET = "demo-sso-secret"
DEMO_ADMIN_TOKEN = "demo-admin-token"
DEMO_PASSWORDS = {
    "agent1": "agent1-pass",
    "agent2": "agent2-pass",
    "agent3": "agent3-pass",
    "supervisor": "supervisor-pass",
}
DEMO_PHONE_SECRETS = {f"phone{i}": f"phone{i}-secret" for i in range(1, 5)}


def demo_directory(region: str = "CZ") -> Directory:
    q = QueueId
    lines = {
        LineId(i): LineConfig(LineId(i), f"phone{i}", f"100{i}", f"Phone {i}") for i in range(1, 5)
    }
    queues = {
        q(1): QueueConfig(
            q(1),
            "Support",
            QueueType.INCOMING,
            Strategy.LONGEST_IDLE,
            15.0,
            10.0,
            number="100",
            greeting="welcome",
            music="music",
            announce_every=20.0,
        ),
        q(2): QueueConfig(
            q(2), "Sales", QueueType.INCOMING, Strategy.RING_ALL, 15.0, 0.0, number="200"
        ),
        q(3): QueueConfig(q(3), "Campaign", QueueType.OUTGOING),
    }

    def agent(i: int, first: str, last: str, queues: tuple[int, ...]) -> AgentConfig:
        return AgentConfig(
            id=AgentId(i),
            username=f"agent{i}",
            firstname=first,
            lastname=last,
            email=f"agent{i}@example.com",
            group_id=1,
            memberships=tuple(Membership(q(n)) for n in queues),
            lines=(LineId(i),),
        )

    agents = {
        AgentId(1): agent(1, "Alice", "Nováková", (1, 2, 3)),
        AgentId(2): agent(2, "Bob", "Dvořák", (1, 3)),
        AgentId(3): agent(3, "Carol", "Svobodová", (2,)),
        AgentId(4): AgentConfig(
            id=AgentId(4),
            username="supervisor",
            firstname="Sam",
            lastname="Supervisor",
            email="supervisor@example.com",
            group_id=1,
            superuser=True,
            memberships=(Membership(q(1), supervisor=True), Membership(q(2), supervisor=True)),
            lines=(LineId(4),),
        ),
    }
    return Directory(agents=agents, lines=lines, queues=queues, region=region)


@dataclass(frozen=True, slots=True)
class DemoCredential:
    """A demo credential in force: what it is, and how to change it (never its value: what
    is said of it goes to the log)."""

    what: str
    change: str


def _named(
    store: Store, table: Table, column: str, names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The rows of ``table`` whose ``column`` is one of ``names``, by id."""
    from sqlalchemy import select

    query = select(table).where(table.c[column].in_(sorted(names))).order_by(table.c.id)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def demo_credentials(store: Store, settings: Settings) -> list[DemoCredential]:
    """The demo credentials (CONTRACT §2) that a server on ``store`` with ``settings`` would
    accept: the admin token and the SSO secret as the server uses them (``build_server`` has
    taken them from the environment or the database), the demo usernames whose password is
    still the demo one (one argon2 check each, some 20 ms), and the phones whose SIP secret is
    the demo one. Anyone who has read the demo's documentation knows them all."""
    from argon2.exceptions import Argon2Error, InvalidHashError

    from ucs.runtime.tokens import token_digest
    from ucs.storage import schema
    from ucs.web.server import password_hasher

    found: list[DemoCredential] = []
    if settings.admin_token_digest == token_digest(DEMO_ADMIN_TOKEN):
        found.append(
            DemoCredential(
                "the admin token is the demo one",
                "set UCS_ADMIN_TOKEN to a secret of your own",
            )
        )
    if settings.sso_secret == DEMO_SSO_SECRET:
        found.append(
            DemoCredential(
                "the SSO secret is the demo one",
                "set UCS_SSO_SECRET, or PUT /api/settings/sso-secret",
            )
        )
    hasher = password_hasher()
    # The demo's agents and phones alone: a node taking 1,000 agents over reads no others.
    demo_agents = _named(store, schema.agents, "username", DEMO_PASSWORDS)
    for agent in demo_agents:
        demo = DEMO_PASSWORDS.get(agent["username"])
        try:
            if demo is None or not hasher.verify(agent["password_hash"], demo):
                continue
        except (Argon2Error, InvalidHashError):
            continue
        found.append(
            DemoCredential(
                f"agent {agent['username']} has the demo password",
                f"ucs agent passwd {agent['id']}",
            )
        )
    demo_lines = _named(store, schema.lines, "identifier", DEMO_PHONE_SECRETS)
    for line in demo_lines:
        demo = DEMO_PHONE_SECRETS.get(line["identifier"])
        if demo is not None and line["secret"] == demo:
            found.append(
                DemoCredential(
                    f"phone {line['identifier']} has the demo SIP secret",
                    f'PATCH /api/lines/{line["id"]} {{"secret": "..."}}',
                )
            )
    return found
