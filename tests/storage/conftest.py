"""Database URLs to test against: SQLite always, PostgreSQL when UCS_TEST_POSTGRES_URL is set.

For PostgreSQL each test gets a database of its own (the role needs CREATEDB), so tests can run
in parallel.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ucs.storage.store import database_url

POSTGRES = os.environ.get("UCS_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES else [])]


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards."""
    assert POSTGRES is not None
    name = f"ucs_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database_url(POSTGRES), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = POSTGRES.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/ucs.db"
        return
    with fresh_postgres() as url:
        yield url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A database of its own on the test PostgreSQL (skipped without one)."""
    if POSTGRES is None:
        pytest.skip("UCS_TEST_POSTGRES_URL is not set: a cluster needs PostgreSQL")
    with fresh_postgres() as url:
        yield url
