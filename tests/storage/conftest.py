"""Database URLs to test against: SQLite always, PostgreSQL when UCS_TEST_POSTGRES_URL is set.

For PostgreSQL each test gets a database of its own (the role needs CREATEDB), so tests can run
in parallel.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import POSTGRES, fresh_postgres

BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES else [])]


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
