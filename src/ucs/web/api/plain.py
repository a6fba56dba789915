"""What every REST body must be before its fields are even looked at: plain JSON.

JSON text can carry what the rest of the server cannot: lone UTF-16 surrogates (``"\\ud800"``:
no UTF-8 for them, so argon2, the database and the response encoder fail), ``NaN`` and
infinities (not JSON at all once written back out, which breaks the CDR and every browser's
``JSON.parse``) and nesting deep enough to exhaust the stack. Bodies with any of these are
refused with 422 before anything is changed, and the refusal itself never echoes them.
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["MAX_DEPTH", "PlainModel", "refusal", "unplain"]

MAX_DEPTH = 32


def unplain(value: Any) -> str | None:
    """Why ``value`` is not plain JSON, or None when it is: no containers nested
    ``MAX_DEPTH`` deep or deeper, no text with lone surrogates, no NaN or infinities. The
    operator protocol asks the same of every message (``ucs.web.ws``)."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return "text must be valid Unicode (no lone surrogates)"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "numbers must be finite (no NaN or Infinity)"
        elif isinstance(item, list | tuple | dict):
            if depth >= MAX_DEPTH:
                return f"nested {MAX_DEPTH} levels deep or deeper"
            if isinstance(item, dict):
                pending.extend((k, depth) for k in item)
                pending.extend((v, depth + 1) for v in item.values())
            else:
                pending.extend((v, depth + 1) for v in item)
    return None


class PlainModel(BaseModel):
    """A request body: no unknown fields, and nothing but plain JSON."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _plain_json(cls, data: Any) -> Any:
        why = unplain(data)
        if why:
            raise ValueError(why)
        return data


def _safe(value: Any, depth: int = 0) -> Any:
    """``value`` with whatever is not plain JSON replaced, for echoing back in a refusal."""
    if depth > MAX_DEPTH:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {str(_safe(k, depth + 1)): _safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe(v, depth + 1) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


async def refusal(request: Request, exc: Exception) -> Response:
    """422 for a body that failed validation, as FastAPI words it, always encodable."""
    assert isinstance(exc, RequestValidationError)
    body = json.dumps({"detail": _safe(list(exc.errors()))}, allow_nan=False)
    return Response(body, status_code=422, media_type="application/json")
