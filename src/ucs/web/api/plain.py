"""What every REST body must be before its fields are even looked at: plain JSON.

JSON text can carry what the rest of the server cannot: lone UTF-16 surrogates (``"\\ud800"``:
no UTF-8 for them, so argon2, the database and the response encoder fail), ``NaN`` and
infinities (not JSON at all once written back out, which breaks the CDR and every browser's
``JSON.parse``) and nesting deep enough to exhaust the stack. Bodies with any of these are
refused with 422 before anything is changed, and the refusal itself never echoes them, nor
more than a short piece of any input (a refusal of a megabyte is no answer).

``Data`` is the type of every ``data`` object a body may carry: at most ``MAX_DATA`` bytes as
JSON, the bound the core puts on ``dial``'s.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

from ucs.core.session import MAX_DATA, data_size

__all__ = ["ECHO", "MAX_DATA", "MAX_DEPTH", "Data", "PlainModel", "refusal", "unplain"]

MAX_DEPTH = 32
ECHO = 64
"""At most this many characters of an input are echoed in a refusal."""
_ITEMS = 8
"""Items of a list or object echoed in a refusal; errors listed in one."""
_MESSAGE = 512
"""Longest message of a refusal (they are ours or pydantic's, and short, but a value error
may quote what it refused)."""


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


def _bounded(value: dict[str, Any]) -> dict[str, Any]:
    if data_size(value) > MAX_DATA:
        raise ValueError(f"data is larger than {MAX_DATA} bytes as JSON")
    return value


Data = Annotated[dict[str, Any], AfterValidator(_bounded)]
"""A ``data`` object: any plain JSON object of at most ``MAX_DATA`` bytes."""


def _safe(value: Any, nested: bool = False) -> Any:
    """``value`` with whatever is not plain JSON replaced, and cut short, for echoing back in
    a refusal: text to ``ECHO`` characters, lists and objects to their first ``_ITEMS`` items,
    one level deep."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict | list | tuple):
        if nested:
            return "{…}" if isinstance(value, dict) else "[…]"
        if isinstance(value, dict):
            pairs = list(value.items())[: _ITEMS + 1]
            brief = {str(_safe(k, True)): _safe(v, True) for k, v in pairs[:_ITEMS]}
            if len(pairs) > _ITEMS:
                brief["…"] = "…"
            return brief
        items = [_safe(v, True) for v in list(value[: _ITEMS + 1])]
        return items if len(items) <= _ITEMS else [*items[:_ITEMS], "…"]
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    cut = text[:ECHO].encode("utf-8", "replace").decode("utf-8")
    return cut + "…" if len(text) > ECHO else cut


def _error(error: Any) -> Any:
    """One of pydantic's errors as it may be echoed: its message and location whole (they
    are ours, short, or cut), its input and context briefly."""
    if not isinstance(error, dict):
        return _safe(error)
    brief = {k: _safe(v) for k, v in error.items() if k not in ("loc", "msg", "url")}
    brief["loc"] = [_safe(part, True) for part in list(error.get("loc", ()))[:MAX_DEPTH]]
    message = str(error.get("msg", ""))
    brief["msg"] = message if len(message) <= _MESSAGE else message[:_MESSAGE] + "…"
    return brief


async def refusal(request: Request, exc: Exception) -> Response:
    """422 for a body that failed validation, as FastAPI words it, always encodable and short:
    inputs are echoed only in part (``ECHO``), and only the first few errors."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    detail = [_error(e) for e in errors[:_ITEMS]]
    body = json.dumps({"detail": detail}, allow_nan=False)
    return Response(body, status_code=422, media_type="application/json")
