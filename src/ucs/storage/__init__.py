"""Persistence: SQLAlchemy 2 Core tables, Alembic migrations, SQLite or PostgreSQL."""

from ucs.storage.store import Store

__all__ = ["Store"]
