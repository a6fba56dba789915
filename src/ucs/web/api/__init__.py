"""The REST API under ``/api``, guarded by the admin token."""

__all__: list[str] = []
