"""Alembic migrations of the ucs database (run by ``Store.migrate``)."""

__all__: list[str] = []
