"""The audit log: who changed what through the administration API (``GET /api/audit``).

One row per accepted change (the answer's status under 400): when, who (``admin``: the admin
token; else the superuser logged in to the web admin), the method and path, and the body sent
with every password and secret masked. Written after the change, by the web layer
(``ucs.web.api.audit``); a row that cannot be written is logged, never undoes the change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, insert, select

from ucs.storage import schema as t

__all__ = ["MASK", "AuditLog", "masked"]

MASK = "•••"
_SECRET_KEYS = ("password", "secret", "token")


def masked(body: Any) -> Any:
    """``body`` with the values of keys that name a password, secret or token masked."""
    if isinstance(body, dict):
        return {
            k: MASK if any(s in str(k).lower() for s in _SECRET_KEYS) else masked(v)
            for k, v in body.items()
        }
    if isinstance(body, list):
        return [masked(v) for v in body]
    return body


class AuditLog:
    """The ``audit`` table of the database ``engine``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def write(self, at: float, actor: str, method: str, path: str, status: int, body: Any) -> None:
        row = {
            "at": at,
            "actor": actor[:160],
            "method": method[:8],
            "path": path[:512],
            "status": status,
            "body": masked(body),
        }
        with self.engine.begin() as conn:
            conn.execute(insert(t.audit).values(**row))

    def page(
        self, *, limit: int, offset: int, actor: str | None = None, since: float | None = None
    ) -> tuple[int, list[dict[str, Any]]]:
        """The total number of entries that match, and a page of them, newest first."""
        query = select(t.audit)
        count = select(func.count()).select_from(t.audit)
        if actor is not None:
            query = query.where(t.audit.c.actor == actor)
            count = count.where(t.audit.c.actor == actor)
        if since is not None:
            query = query.where(t.audit.c.at >= since)
            count = count.where(t.audit.c.at >= since)
        query = query.order_by(t.audit.c.id.desc()).limit(limit).offset(offset)
        with self.engine.connect() as conn:
            total = int(conn.execute(count).scalar_one())
            return total, [dict(r) for r in conn.execute(query).mappings()]
