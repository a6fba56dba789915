"""The team view over REST (``GET /api/team``): what the wallboard shows. The admin token or
a superuser's session reads the whole center, a supervisor's session their own team
(``ucs.web.api.readers``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from ucs.web.api.auth import ERRORS
from ucs.web.api.readers import Reader, require_reader

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["supervisors"], responses=ERRORS)


@router.get("/team")
async def team(request: Request, reader: Reader = Depends(require_reader)) -> dict[str, Any]:
    """Every queue (callers waiting, the longest wait, today's answered, abandoned and
    service level; a campaign: its calls in progress, today's dialled, answered and
    unanswered) and every agent (status, reason, since when, phone, call), as a
    superuser's `team()` in the component has them (CONTRACT §11); with a supervisor's
    session, their queues and team as their `team()` has them."""
    server = request.app.state.server
    now = server.engine.clock()
    view: dict[str, Any] = server.center.team_view(now, reader.supervisor)
    return {**view, "now": now}
