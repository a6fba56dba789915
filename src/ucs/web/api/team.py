"""The whole center's team view over REST (``GET /api/team``): what the wallboard shows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from ucs.web.api.auth import ERRORS, require_admin

__all__ = ["router"]

router = APIRouter(
    prefix="/api", tags=["supervisors"], dependencies=[Depends(require_admin)], responses=ERRORS
)


@router.get("/team")
async def team(request: Request) -> dict[str, Any]:
    """Every queue (callers waiting, the longest wait, today's answered, abandoned and
    service level) and every agent (status, reason, since when, phone, call), as a
    superuser's `team()` in the component has them (CONTRACT §11)."""
    server = request.app.state.server
    view: dict[str, Any] = server.center.team_view(server.engine.clock())
    return {**view, "now": server.engine.clock()}
