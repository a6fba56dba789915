"""409 answers that name the field in conflict: ``username 'agent1' is taken``, not "a
duplicate". The unique fields of each table are looked up before a write (the usual case, with
the record that holds the value named), and a write that still breaks a unique constraint (a
race with another request) is mapped back to its field from the database's message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import Table
from sqlalchemy.exc import IntegrityError

from ucs.web.api.plain import ECHO

__all__ = ["UNIQUE", "conflict", "integrity_conflict", "taken"]

UNIQUE: dict[str, tuple[str, ...]] = {
    "agents": ("username",),
    "lines": ("identifier", "extension"),
}
"""The fields that must be unique, per table (``ucs.storage.schema``)."""

_KIND = {"agents": "agent", "lines": "phone", "queues": "queue"}


def conflict(field: str, message: str) -> HTTPException:
    """A 409 whose ``detail`` begins with the field's name."""
    return HTTPException(status.HTTP_409_CONFLICT, f"{field}: {message}")


def taken(
    table: Table, values: Mapping[str, Any], rows: Iterable[Mapping[str, Any]], own: int | None
) -> HTTPException | None:
    """The conflict of writing ``values`` into ``table`` (as record ``own``, None for a new
    one), given its ``rows``; None when there is none."""
    fields = UNIQUE.get(table.name, ())
    for row in rows:
        if row.get("id") == own:
            continue
        for name in fields:
            if name in values and values[name] == row.get(name):
                shown = str(values[name])[:ECHO]
                kind = _KIND.get(table.name, "record")
                return conflict(name, f"{shown!r} is taken by {kind} {row.get('id')}")
    return None


def integrity_conflict(table: Table | None, err: IntegrityError) -> HTTPException:
    """A 409 for a write the database refused: the field its message names, when it does
    (SQLite: ``UNIQUE constraint failed: lines.extension``; PostgreSQL: ``Key (extension)=…``)."""
    said = str(err.orig)
    for name in UNIQUE.get(table.name, ()) if table is not None else ():
        if f".{name}" in said or f"({name})" in said:
            return conflict(name, "the value is taken by another record")
    return HTTPException(
        status.HTTP_409_CONFLICT, "conflicts with an existing record (duplicate or in use)"
    )
