"""The thin ASGI layer: the operator protocol over WebSocket, the REST API, static files."""

__all__: list[str] = []
