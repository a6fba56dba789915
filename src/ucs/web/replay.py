"""Answers kept for a request sent again with the same id (after a reconnect): it is answered
from memory, never carried out twice (docs/protocol.md, "Requests")."""

from __future__ import annotations

import zlib
from collections import OrderedDict

__all__ = ["KEPT", "KEPT_BYTES", "Answers"]

KEPT = 256
"""Most answers kept per session (or connection, before login) …"""
KEPT_BYTES = 64 * 1024
"""… and most bytes: the oldest go first. A request is sent again only while it waits for
its answer, so the last few are what matters; an agent's last calls fit many times over."""
PACK_OVER = 4096
"""Answers longer than this (a login's snapshot of a large session) are kept compressed.
Shorter ones are kept as they are: compressing a 1 KB answer took 50–150 µs of the event
loop for each request, and most are never asked for again (docs/performance.md)."""


class Answers:
    """The kept answers of one session, oldest first, bounded in number and in bytes."""

    __slots__ = ("_kept", "size")

    def __init__(self) -> None:
        self._kept: OrderedDict[str, str | bytes] = OrderedDict()
        self.size = 0
        """Bytes kept (characters of the answers kept as text)."""

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, key: str) -> str | None:
        kept = self._kept.get(key)
        if kept is None:
            return None
        return zlib.decompress(kept, -10).decode() if isinstance(kept, bytes) else kept

    def keep(self, key: str, text: str) -> None:
        kept = self._kept.pop(key, None)
        if kept is not None:
            self.size -= len(kept)
        stored = _pack(text) if len(text) > PACK_OVER else text
        self._kept[key] = stored
        self.size += len(stored)
        while len(self._kept) > KEPT or (self.size > KEPT_BYTES and len(self._kept) > 1):
            _, old = self._kept.popitem(last=False)
            self.size -= len(old)


def _pack(text: str) -> bytes:
    """Raw deflate with a 1 KiB window and little state (``zlib.compress`` sets up 256 KB of
    state each time)."""
    packer = zlib.compressobj(1, zlib.DEFLATED, -10, 2)
    return packer.compress(text.encode()) + packer.flush()
