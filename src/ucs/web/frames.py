"""Several WebSocket messages to one connection in one write (one ``send`` system call).

A step of the core often pushes two or three messages to an agent's connection at once (the
call's change, the agent's, the answer to its request). Through ASGI each message is a write
of its own; uvicorn's WebSocket protocol (``websockets-sansio``, what ``ucs serve`` runs) can
frame them all and write them together. ``writer`` gives that for a connection it serves, and
nothing for any other server, whose connections then send message by message: the same frames
in the same order either way (docs/performance.md, "The event loop's share").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketState

__all__ = ["writer"]

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    from websockets.protocol import State
except ImportError:  # pragma: no cover (another server, or another uvicorn)
    WebSocketsSansIOProtocol = None  # type: ignore[assignment,misc]


class Batches:
    """How many messages went out and in how many writes, since the server started."""

    frames = 0
    writes = 0


def writer(ws: WebSocket) -> Callable[[list[str]], bool] | None:
    """A function that writes a list of text messages to ``ws`` in one go and says whether it
    could (False: the connection is closing, or its buffer is full, so the caller sends them
    the ASGI way, which waits or fails as it should); None when ``ws`` is not served by
    uvicorn's sans-I/O protocol."""
    proto: Any = getattr(ws._send, "__self__", None)  # the ASGI send is the server's method
    if WebSocketsSansIOProtocol is None or not isinstance(proto, WebSocketsSansIOProtocol):
        return None

    def write(texts: list[str]) -> bool:
        conn = proto.conn
        if (
            ws.application_state is not WebSocketState.CONNECTED
            or not proto.handshake_complete
            or proto.initial_response is not None
            or proto.close_sent
            or proto.disconnected
            or not proto.writable.is_set()
            or conn.state is not State.OPEN
        ):
            return False
        for text in texts:
            conn.send_text(text.encode())
        proto.transport.write(b"".join(conn.data_to_send()))
        Batches.frames += len(texts)
        Batches.writes += 1
        return True

    return write
