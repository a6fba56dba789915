"""The demo data of CONTRACT §2: three agents, a supervisor, four phones, three queues."""

from __future__ import annotations

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

__all__ = [
    "DEMO_ADMIN_TOKEN",
    "DEMO_PASSWORDS",
    "DEMO_PHONE_SECRETS",
    "DEMO_SSO_SECRET",
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
            q(1), "Support", QueueType.INCOMING, Strategy.LONGEST_IDLE, 15.0, 10.0, number="100"
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
