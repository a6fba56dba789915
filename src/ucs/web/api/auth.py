"""The admin token guard: ``Authorization: Bearer <admin token>``, compared in constant time."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ucs.runtime.tokens import token_digest

__all__ = ["ERRORS", "require_admin"]

_bearer = HTTPBearer(auto_error=False, description="The admin token (`UCS_ADMIN_TOKEN`).")

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "The admin token is missing or wrong."},
    404: {"description": "No such record."},
    409: {"description": "Conflicts with an existing record, or the record is in use."},
    422: {"description": "Malformed or out-of-range input; nothing was changed."},
}
"""The error answers every administration route may give (for the OpenAPI document)."""


async def require_admin(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> None:
    expected: str = request.app.state.server.settings.admin_token_digest
    given = credentials.credentials if credentials is not None else ""
    if not expected or not hmac.compare_digest(token_digest(given), expected):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="admin token required: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
