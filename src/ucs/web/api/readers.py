"""Who reads the team view and the reports, and what of it (CONTRACT §11).

``require_reader`` is the dependency of the readers' routes (``/api/team``,
``/api/reports/…``): the admin token and a superuser's admin session read the whole center; a
supervisor's session (``ucs.web.api.staff``) reads their queues and their team, as the
directory has them at the time of the request (a supervisor whose flags were taken away reads
nothing: 403 ``FORBIDDEN``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ucs.core.errors import Forbidden, InvalidArgument, UcsError
from ucs.core.ids import AgentId, QueueId
from ucs.web.api.auth import admin_token_ok

__all__ = ["Reader", "refused", "require_reader"]

_bearer = HTTPBearer(
    auto_error=False,
    description="The admin token, or an admin or supervisor session (`POST /api/admin/login`).",
)


@dataclass(frozen=True, slots=True)
class Reader:
    """What the request may read: every queue and agent (``supervisor`` None), or the
    supervisor's ``queues`` and ``agents``."""

    supervisor: AgentId | None = None
    queues: frozenset[QueueId] | None = None
    agents: frozenset[AgentId] | None = None


async def require_reader(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> Reader:
    given = credentials.credentials if credentials is not None else ""
    server = request.app.state.server
    sessions = request.app.state.admin_sessions
    now = time.time()
    if admin_token_ok(given, server.settings.admin_token_digest) or sessions.who(given, now):
        return Reader()
    username = sessions.supervisor(given, now)
    if username is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="the admin token, or an admin or supervisor session, is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    center = server.center
    agent = center.directory.agent_by_username(username)
    if agent is None:
        raise Forbidden(f"{username} is no longer an agent")
    if agent.superuser:
        return Reader()
    if agent.id not in center.teams.supervisors:
        raise Forbidden(f"{username} supervises no queue")
    team, queues = center.teams.of(agent.id)
    return Reader(agent.id, frozenset(queues), team | {agent.id})


async def refused(request: Request, exc: Exception) -> JSONResponse:
    """A readers' route refused: ``FORBIDDEN`` (403) or ``INVALID_ARGUMENT`` (422), with the
    reason, as ``{"code", "detail"}``."""
    assert isinstance(exc, UcsError)
    answer = 422 if isinstance(exc, InvalidArgument) else 403
    return JSONResponse({"code": exc.code, "detail": exc.message}, status_code=answer)
