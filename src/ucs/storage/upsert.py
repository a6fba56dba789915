"""Upserts: insert a row, or update the row with the same keys; one statement per shape, built
once, its rows handed to the database driver as they are (the store's writer, the settings).

SQLAlchemy's processing of each parameter of each row (``_init_compiled``, bind processors,
JSON) was the committer's largest cost at 200 calls/s (docs/performance.md): the statement is
compiled once per database and shape, and the rows go to ``exec_driver_sql`` with their JSON
encoded here (by orjson: the standard library's encoding was a tenth of the committer's CPU).
A shape whose column types need more than that is executed through SQLAlchemy as before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Connection, Float, Integer, String, Table, Text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

__all__ = ["upsert"]

_PLAIN_TYPES = (Boolean, Float, Integer, String, Text)
"""Column types whose values the drivers take as they are (JSON is encoded here)."""


@dataclass(frozen=True)
class _Prepared:
    """An upsert of one shape, compiled once for a database: its SQL in the driver's own
    parameter style, and how a row becomes the driver's parameters; ``direct`` false when the
    column types need SQLAlchemy's processing (then ``statement`` is executed as it is)."""

    statement: Any
    sql: str
    names: tuple[str, ...] | None
    """The parameters' order for a positional style (SQLite's ``?``); None: by name."""
    json: frozenset[str]
    direct: bool


_STATEMENTS: dict[tuple[Any, ...], _Prepared] = {}


def _prepare(
    conn: Connection, table: Table, columns: tuple[str, ...], keys: list[str], only_if: Any
) -> _Prepared:
    ins = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)
    update = {c: ins.excluded[c] for c in columns if c not in keys}
    stmt = ins.on_conflict_do_update(index_elements=keys, set_=update, where=only_if)
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(columns))
    types = [table.c[c].type for c in columns]
    direct = all(isinstance(ty, (*_PLAIN_TYPES, JSON)) for ty in types) and set(
        compiled.params
    ) == set(columns)
    positional = compiled.positiontup
    return _Prepared(
        stmt,
        compiled.string,
        tuple(positional) if positional is not None else None,
        frozenset(c for c, ty in zip(columns, types, strict=True) if isinstance(ty, JSON)),
        direct,
    )


def upsert(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    keys: list[str],
    only_if: Any = None,
) -> None:
    """Insert each row, or update the row with the same ``keys`` (only where ``only_if``
    holds): one statement, built once per shape and reused, executed for all the rows (which
    have the same columns and different keys). ``only_if`` is a module-level condition.

    The rows go to the driver as they are, their JSON encoded here: SQLAlchemy's processing of
    each parameter of each row was the writer's largest cost (docs/performance.md)."""
    if not rows:
        return
    columns = tuple(rows[0])
    shape = (conn.dialect.name, table.name, tuple(keys), columns, id(only_if))
    prepared = _STATEMENTS.get(shape)
    if prepared is None:
        prepared = _STATEMENTS[shape] = _prepare(conn, table, columns, keys, only_if)
    if not prepared.direct:
        conn.execute(prepared.statement, rows)
        return
    encoded = prepared.json
    if encoded:
        rows = [{c: (_dumps(v) if c in encoded else v) for c, v in r.items()} for r in rows]
    names = prepared.names
    params: list[Any] = rows if names is None else [tuple(r[c] for c in names) for r in rows]
    conn.exec_driver_sql(prepared.sql, params)


def _dumps(value: Any) -> str:
    """A JSON column's value (None too: JSON null), read back as SQLAlchemy's JSON type reads
    what it writes: keys that are not text written as text, as the standard library does;
    what orjson refuses (an integer beyond 64 bits) is written by the standard library."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)
