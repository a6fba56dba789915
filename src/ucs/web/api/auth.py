"""The admin token guard: ``Authorization: Bearer <admin token>``, compared in constant time,
or a superuser's admin session token (``ucs.web.api.staff``, kept in ``app.state``). A
supervisor's session passes only to the paths it may read (``staff.READER_PATHS``); anything
else answers 403 ``FORBIDDEN``.

Checked twice: by ``AdminGate``, in front of FastAPI, before a byte of the body is read (FastAPI
reads and parses a body before it runs a route's dependencies, so a 60 MB body without a token
would be parsed before its 401); and by ``require_admin``, each router's dependency, which also
puts the token in the OpenAPI document.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from ucs.runtime.tokens import token_digest
from ucs.web.limits import has_body

__all__ = ["ERRORS", "AdminGate", "admin_token_ok", "require_admin"]

_bearer = HTTPBearer(auto_error=False, description="The admin token (`UCS_ADMIN_TOKEN`).")

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "The admin token is missing or wrong."},
    404: {"description": "No such record."},
    409: {"description": "Conflicts with an existing record, or the record is in use."},
    413: {"description": "The body is larger than the server takes (docs/security.md)."},
    422: {"description": "Malformed or out-of-range input; nothing was changed."},
}
"""The error answers every administration route may give (for the OpenAPI document)."""

_REFUSED = "admin token required: Authorization: Bearer <token>"
_READER_ONLY = (
    "a supervisor's session reads the team view and the reports only; this needs an "
    "administrator (the admin token or a superuser's login)"
)


def admin_token_ok(given: str, expected_digest: str) -> bool:
    """Whether ``given`` is the admin token whose SHA-256 is ``expected_digest``."""
    return bool(expected_digest) and hmac.compare_digest(token_digest(given), expected_digest)


async def require_admin(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> None:
    expected: str = request.app.state.server.settings.admin_token_digest
    given = credentials.credentials if credentials is not None else ""
    sessions = getattr(request.app.state, "admin_sessions", None)
    in_session = sessions is not None and sessions.who(given, time.time()) is not None
    if admin_token_ok(given, expected) or in_session:
        return
    if sessions is not None and sessions.supervisor(given, time.time()) is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=_READER_ONLY)
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail=_REFUSED,
        headers={"WWW-Authenticate": "Bearer"},
    )


def _bearer_token(scope: Scope) -> str:
    for name, value in scope.get("headers") or ():
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""


class AdminGate:
    """ASGI middleware: an HTTP request under ``prefix`` without the admin token is answered
    401 at once, its body unread (and, when it has one, the connection closed, so that
    nothing more of it is taken either). ``public`` paths, and everything under
    ``public_prefixes``, need no token. ``expected`` gives the token's SHA-256 at the time of
    the request; ``session`` says whether a token is an admin session's, ``reader`` whether it
    is a supervisor session's, which passes to ``reader_paths`` only (elsewhere: 403)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        expected: Callable[[], str],
        session: Callable[[str], bool] = lambda token: False,
        reader: Callable[[str], bool] = lambda token: False,
        reader_paths: Iterable[str] = (),
        prefix: str = "/api/",
        public: Iterable[str] = (),
        public_prefixes: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.expected = expected
        self.session = session
        self.reader = reader
        self.reader_paths = frozenset(reader_paths)
        self.prefix = prefix
        self.public = frozenset(public)
        self.public_prefixes = tuple(public_prefixes)

    def guards(self, path: str) -> bool:
        """Whether a request for ``path`` needs the admin token."""
        return (
            path.startswith(self.prefix)
            and path not in self.public
            and not path.startswith(self.public_prefixes)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.guards(scope["path"])
            or admin_token_ok(token := _bearer_token(scope), self.expected())
            or self.session(token)
        ):
            await self.app(scope, receive, send)
            return
        if token and self.reader(token):
            if scope["path"] in self.reader_paths:
                await self.app(scope, receive, send)
                return
            answer, body = 403, json.dumps({"code": "FORBIDDEN", "detail": _READER_ONLY}).encode()
            headers = [(b"content-type", b"application/json")]
        else:
            answer, body = 401, json.dumps({"detail": _REFUSED}).encode()
            headers = [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]
        headers.append((b"content-length", str(len(body)).encode()))
        if has_body(scope):  # unread: the connection ends, rather than take the rest
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": answer, "headers": headers})
        await send({"type": "http.response.body", "body": body})
