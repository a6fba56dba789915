"""The admin token guard: ``Authorization: Bearer <admin token>``, compared in constant time."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request, status

__all__ = ["require_admin"]


def require_admin(request: Request) -> None:
    expected: str = request.app.state.server.settings.admin_token
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if (
        not expected
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(token.strip().encode(), expected.encode())
    ):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="admin token required: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
