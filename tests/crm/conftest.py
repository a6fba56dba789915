"""The server fixture for the CRM tests."""

from tests.server.conftest import Running, anyio_backend, running  # noqa: F401
