"""Who may administer: the admin token, or a superuser logged in to the web admin; and who
may read the supervisors' pages: also a supervisor, logged in with their own password.

``POST /api/admin/login`` with a superuser's username and password answers a token for
``Authorization: Bearer`` (an **admin session**, ``role`` ``admin``, kept in memory for ``TTL``
seconds, ended by ``POST /api/admin/logout`` or a restart); the API then accepts it as it
accepts the admin token, and the audit log names the superuser. A supervisor (an agent with the
supervisor flag in a queue, not a superuser) gets a **supervisor session** (``role``
``supervisor``): it reads ``READER_PATHS`` (the team view and the reports, of their queues and
team only, ``ucs.web.api.readers``) and every other route answers 403 ``FORBIDDEN``. Anyone else
is refused. Five failed logins for a username in ``LOCK`` seconds lock it for the rest of that
time (429), whatever the password.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Literal

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import Field

from ucs.core.supervision import supervised_queues
from ucs.runtime.tokens import token_digest
from ucs.web.api.auth import admin_token_ok
from ucs.web.api.plain import PlainModel

__all__ = [
    "ADMIN_ACTOR",
    "LOCK",
    "READER_PATHS",
    "TTL",
    "AdminSessions",
    "Role",
    "actor_of",
    "router",
]

TTL = 8 * 3600.0
"""Seconds an admin session lasts."""
LOCK = 300.0
"""Seconds over which failed logins are counted, and a locked username stays locked."""
_FAILURES = 5
_MOST = 1000
ADMIN_ACTOR = "admin"
"""The audit log's name for whoever used the admin token."""
READER_PATHS = frozenset(
    {
        "/api/team",
        "/api/reports/queues",
        "/api/reports/agents",
        "/api/admin/me",
        "/api/admin/logout",
    }
)
"""What a supervisor session may ask for (anything else: 403 ``FORBIDDEN``)."""

Role = Literal["admin", "supervisor"]


@dataclass
class AdminSessions:
    """Admin and supervisor sessions: token digests → (username, expiry, role), and failed
    logins."""

    _sessions: dict[str, tuple[str, float, Role]] = field(default_factory=dict)
    _failures: dict[str, list[float]] = field(default_factory=dict)

    def issue(self, username: str, now: float, role: Role = "admin") -> str:
        self._prune(now)
        while len(self._sessions) >= _MOST:  # the oldest go first
            del self._sessions[min(self._sessions, key=lambda d: self._sessions[d][1])]
        token = "ucs-admin-" + secrets.token_urlsafe(32)
        self._sessions[token_digest(token)] = (username, now + TTL, role)
        return token

    def session(self, token: str, now: float) -> tuple[str, Role] | None:
        """Whose session ``token`` is, and its role, while it lasts."""
        if not token.startswith("ucs-admin-"):
            return None
        found = self._sessions.get(token_digest(token))
        if found is None or found[1] < now:
            return None
        return found[0], found[2]

    def who(self, token: str, now: float) -> str | None:
        """The superuser whose admin session ``token`` is, while it lasts."""
        found = self.session(token, now)
        return found[0] if found is not None and found[1] == "admin" else None

    def supervisor(self, token: str, now: float) -> str | None:
        """The supervisor whose supervisor session ``token`` is, while it lasts."""
        found = self.session(token, now)
        return found[0] if found is not None and found[1] == "supervisor" else None

    def end(self, token: str) -> None:
        self._sessions.pop(token_digest(token), None)

    def end_for(self, username: str) -> None:
        """End every session of ``username`` (no longer a superuser, or removed)."""
        for digest in [d for d, (u, _, _) in self._sessions.items() if u == username]:
            del self._sessions[digest]

    def locked(self, username: str, now: float) -> bool:
        recent = [at for at in self._failures.get(username, ()) if at > now - LOCK]
        self._failures[username] = recent
        return len(recent) >= _FAILURES

    def failed(self, username: str, now: float) -> None:
        if len(self._failures) > 10_000:
            self._failures.clear()
        self._failures.setdefault(username, []).append(now)

    def _prune(self, now: float) -> None:
        for digest in [d for d, (_, until, _) in self._sessions.items() if until < now]:
            del self._sessions[digest]


def actor_of(token: str, admin_digest: str, sessions: AdminSessions) -> str | None:
    """Who ``token`` lets administer: ``ADMIN_ACTOR``, a superuser's username, or None."""
    if admin_token_ok(token, admin_digest):
        return ADMIN_ACTOR
    return sessions.who(token, time.time())


router = APIRouter(prefix="/api/admin", tags=["administration"])


class Credentials(PlainModel):
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=256)


@router.post("/login")
async def login(body: Credentials, request: Request) -> dict[str, object]:
    """A superuser's admin session for the web admin (``/admin/``), ``role`` ``admin``; or a
    supervisor's session for ``/reports/`` and ``/wallboard/``, ``role`` ``supervisor``: it
    reads the team view and the reports of their queues and team, and nothing else."""
    server = request.app.state.server
    sessions: AdminSessions = request.app.state.admin_sessions
    now = time.time()
    if sessions.locked(body.username, now):
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many failed logins for this username: try again in a few minutes",
        )
    agent = server.catalog.agent_by_username(body.username)
    stored = server.password_hashes.get(body.username) or server.decoy_hash()
    ok = await asyncio.to_thread(server.verify_password, stored, body.password)
    role: Role | None = None
    if agent is not None and agent.superuser:
        role = "admin"
    elif agent is not None and supervised_queues(server.catalog, agent):
        role = "supervisor"
    if not ok or role is None:
        sessions.failed(body.username, now)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "wrong username or password, or neither a superuser nor a supervisor",
        )
    token = sessions.issue(body.username, now, role)
    return {"token": token, "username": body.username, "role": role, "ttl": TTL}


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@router.post("/logout", status_code=204)
async def logout(request: Request) -> None:
    """End the admin session whose token the request carries."""
    request.app.state.admin_sessions.end(_bearer(request))


@router.get("/me")
async def me(request: Request) -> dict[str, str]:
    """Who the request's token is (``actor``: ``admin``, or the username) and what it may do
    (``role``: ``admin``, or ``supervisor``: the team view and the reports of their team)."""
    digest = request.app.state.server.settings.admin_token_digest
    sessions: AdminSessions = request.app.state.admin_sessions
    token = _bearer(request)
    who = actor_of(token, digest, sessions)
    if who is not None:
        return {"actor": who, "role": "admin"}
    supervisor = sessions.supervisor(token, time.time())
    if supervisor is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "no admin token or session")
    return {"actor": supervisor, "role": "supervisor"}
