"""Fill a fresh database for a benchmark, fast, straight through ``ucs.storage``.

N agents ``bench1`` … ``benchN``, each with its own phone (``bphone1`` …, extension 20001 …) and
a membership in every queue; two incoming queues with no wrap-up. All agents share ONE argon2
hash (computed once), so seeding 10,000 agents takes a second instead of minutes; the agents log
in by SSO anyway.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import insert

from ucs.storage import schema as t
from ucs.storage.store import Store
from ucs.web.server import password_hasher

__all__ = ["QUEUES", "SeedInfo", "agent_name", "phone_name", "seed"]

QUEUES: tuple[int, ...] = (1, 2)
"""The incoming queues callers ring (both longest-idle, no wrap-up)."""

SSO_SECRET = "bench-sso-secret"
"""Given to the server as UCS_SSO_SECRET."""
ADMIN_TOKEN = "bench-admin-token"
"""Given to the server as UCS_ADMIN_TOKEN."""
PASSWORD = "bench-pass"
_EXTENSION_BASE = 20000


def agent_name(i: int) -> str:
    return f"bench{i}"


def phone_name(i: int) -> str:
    return f"bphone{i}"


@dataclass(frozen=True)
class SeedInfo:
    agents: int
    queues: tuple[int, ...]
    seconds: float


def seed(
    db_url: str,
    agents: int,
    *,
    ring_timeout: float = 15.0,
    strategy: str = "longest-idle",
    phone_secret: str = "",
) -> SeedInfo:
    """Migrate an empty database at ``db_url`` and insert ``agents`` agents with their phones."""
    started = time.perf_counter()
    store = Store(db_url)
    store.migrate()
    if not store.is_empty():
        raise RuntimeError(f"{db_url} is not empty")
    pw_hash = password_hasher().hash(PASSWORD)
    ids = range(1, agents + 1)
    with store.engine.begin() as conn:
        conn.execute(
            insert(t.queues),
            [
                {
                    "id": q,
                    "name": f"Bench {q}",
                    "type": 1,
                    "strategy": strategy,
                    "ring_timeout": ring_timeout,
                    "wrapup": 0.0,
                    "weight": 0,
                    "number": str(100 * q),
                }
                for q in QUEUES
            ],
        )
        conn.execute(
            insert(t.lines),
            [
                {
                    "id": i,
                    "identifier": phone_name(i),
                    "extension": str(_EXTENSION_BASE + i),
                    "name": f"Bench phone {i}",
                    "secret": phone_secret,  # (a SIP phone registers with it)
                }
                for i in ids
            ],
        )
        conn.execute(
            insert(t.agents),
            [
                {
                    "id": i,
                    "username": agent_name(i),
                    "password_hash": pw_hash,
                    "firstname": "Bench",
                    "lastname": f"Agent {i}",
                    "displayname": "",
                    "email": f"bench{i}@example.com",
                    "locale": "en",
                    "superuser": False,
                    "data": {},
                }
                for i in ids
            ],
        )
        conn.execute(insert(t.agent_lines), [{"agent_id": i, "line_id": i} for i in ids])
        conn.execute(
            insert(t.memberships),
            [
                {"agent_id": i, "queue_id": q, "priority": 1, "supervisor": False}
                for i in ids
                for q in QUEUES
            ],
        )
        conn.execute(
            insert(t.aux_reasons),
            [{"name": r, "position": n} for n, r in enumerate(("Lunch", "Break"))],
        )
    store.engine.dispose()
    return SeedInfo(agents, QUEUES, time.perf_counter() - started)
